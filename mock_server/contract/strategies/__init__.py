"""Hypothesis strategies generated from the JSON Schemas in ``schemas/``, split by kind.

Valid requests come from the model's args schema (hypothesis-jsonschema's `from_schema`
for every leaf) and are then patched to satisfy the cross-field rules. Invalid requests
break exactly one rule each and carry a label: the rule, the JSON pointer the mock names,
the answer they must get and the assumption ids they exercise.

- `labels`: `Expected`, `BrokenRequest`, the API paths, the key placeholder, `encode`
- `from_schema`: leaf strategies from a schema, objects and arrays composed from its keywords
- `regex`: the schemas' simple patterns as strategies (`matching`) and seeded samplers
- `valid`: valid args and requests that keep the cross-field rules; `price_bound`
- `schema_breaks`: each keyword of the request schemas broken alone (`SCHEMA_BREAKS`)
- `per_model`: valid requests and schema breaks for every served model (`valid_requests_for`)
- `rule_breaks`: cross-field, transport, auth, query and lenient breaks; `BREAKS`

Every name is re-exported here: ``from mock_server.contract import strategies`` and
``strategies.valid_requests``, ``strategies.BREAKS``, ... is how the kit and the suite use them.
"""

from __future__ import annotations

from . import from_schema, labels, per_model, rule_breaks, schema_breaks, valid
from .from_schema import *  # noqa: F403
from .labels import *  # noqa: F403
from .per_model import *  # noqa: F403
from .rule_breaks import *  # noqa: F403
from .schema_breaks import *  # noqa: F403
from .valid import *  # noqa: F403

__all__ = [
    *from_schema.__all__,
    *labels.__all__,
    *per_model.__all__,
    *rule_breaks.__all__,
    *schema_breaks.__all__,
    *valid.__all__,
]
