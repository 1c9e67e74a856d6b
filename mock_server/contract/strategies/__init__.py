"""Hypothesis strategies generated from the JSON Schemas in ``schemas/``, split by kind.

Valid requests come from the model's args schema (hypothesis-jsonschema's `from_schema`
for every leaf) and are then patched to satisfy the cross-field rules. Invalid requests
break exactly one rule each and carry a label: the rule, the JSON pointer the mock names,
the answer they must get and the assumption ids they exercise.

- `labels`: `Expected`, `BrokenRequest`, the API paths, the key placeholder, `encode`
- `from_schema`: leaf strategies from a schema, objects and arrays composed from its keywords
- `regex`: the schemas' simple patterns as strategies (`matching`) and seeded samplers
- `valid`: valid args and requests that keep the cross-field rules; `price_bound`
- `schema_breaks`: each keyword of the request schemas broken alone (`SCHEMA_BREAKS`), by
  the `mutations` of each kind of keyword
- `per_model`: valid requests and schema breaks for every served model (`valid_requests_for`)
- `rule_breaks`: cross-field, transport, auth, query and lenient breaks; `BREAKS`

Every name is re-exported here: ``from mock_server.contract import strategies`` and
``strategies.valid_requests``, ``strategies.BREAKS``, ... is how the kit and the suite use them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The submodules, in the order a name is looked for. Each is imported on first use of one of
# its names: `labels` (the wire names, `Expected`, `BrokenRequest`) imports no hypothesis, so
# the parts of the kit that only label requests (drift, the recorder, the proxy) load without
# it (hypothesis is the `contract` extra).
SUBMODULES = ("from_schema", "labels", "per_model", "rule_breaks", "schema_breaks", "valid")

if TYPE_CHECKING:
    from . import from_schema as from_schema
    from . import labels as labels
    from . import per_model as per_model
    from . import rule_breaks as rule_breaks
    from . import schema_breaks as schema_breaks
    from . import valid as valid
    from .from_schema import *  # noqa: F403
    from .labels import *  # noqa: F403
    from .per_model import *  # noqa: F403
    from .rule_breaks import *  # noqa: F403
    from .schema_breaks import *  # noqa: F403
    from .valid import *  # noqa: F403


def _submodule(name: str) -> Any:
    return importlib.import_module(f"{__name__}.{name}")


def __getattr__(name: str) -> Any:
    """Return a submodule, or a name one of them exports, importing it on first use."""
    if name in SUBMODULES:
        return _submodule(name)
    if name == "__all__":
        return [n for sub in SUBMODULES for n in _submodule(sub).__all__]
    for sub in ("labels", *SUBMODULES):  # labels first: it needs no hypothesis
        try:
            module = _submodule(sub)
        except ImportError as exc:  # hasattr() and getattr(..., default) keep working
            raise AttributeError(
                f"{__name__}.{name}: not in labels, and the strategies need hypothesis, the "
                "kit's contract extra: pip install 'shortapi-mock[contract]'"
            ) from exc
        if name in module.__all__:
            value = getattr(module, name)
            globals()[name] = value
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
