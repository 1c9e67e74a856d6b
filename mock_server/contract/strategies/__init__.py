"""Hypothesis strategies generated from the JSON Schemas in ``schemas/``, split by kind.

Valid requests come from the model's args schema (hypothesis-jsonschema's `from_schema`
for every leaf) and are then patched to satisfy the cross-field rules. Invalid requests
break exactly one rule each and carry a label: the rule, the JSON pointer the mock names,
the answer they must get and the assumption ids they exercise.

- `labels`: `Expected`, `BrokenRequest`, the API paths, the key placeholder, `encode`
- `from_schema`: leaf strategies from a schema, objects and arrays composed from its keywords
- `valid`: valid args and requests that keep the cross-field rules; `price_bound`
- `schema_breaks`: each keyword of the request schemas broken alone (`SCHEMA_BREAKS`)
- `rule_breaks`: cross-field, transport, auth, query and lenient breaks; `BREAKS`

Every name is re-exported here: ``from mock_server.contract import strategies`` and
``strategies.valid_requests``, ``strategies.BREAKS``, ... is how the kit and the suite use them.
"""

from __future__ import annotations

from .from_schema import for_schema, leaf, matching, resolve, resolved
from .labels import (
    ACCEPTED,
    ALWAYS,
    BAD_BODY,
    BEARER,
    CREATE_PATH,
    INVALID,
    QUERY_PATH,
    BrokenRequest,
    Expected,
    broken,
    encode,
    escape,
)
from .rule_breaks import (
    BREAKS,
    LENIENT_BREAKS,
    RULE_BREAKS,
    TRANSPORT_BREAKS,
    Patch,
    auth_breaks,
    invalid_requests,
    lenient_requests,
)
from .schema_breaks import SCHEMA_BREAK_REQUESTS, SCHEMA_BREAKS, SPOTS, Break, Mutation, Spot, spots
from .valid import (
    ARGS,
    ENVELOPE,
    ENVELOPE_SCHEMA,
    MODEL,
    SINGLE_FRAME_BAD_DURATIONS,
    SINGLE_FRAME_DURATIONS,
    documented_images,
    elements,
    envelope,
    image_urls,
    job_ids,
    live_args,
    live_requests,
    price_bound,
    rule_errors,
    schema_args,
    stripped,
    valid_args,
    valid_requests,
)

__all__ = [
    "ACCEPTED",
    "ALWAYS",
    "ARGS",
    "BAD_BODY",
    "BEARER",
    "BREAKS",
    "CREATE_PATH",
    "ENVELOPE",
    "ENVELOPE_SCHEMA",
    "INVALID",
    "LENIENT_BREAKS",
    "MODEL",
    "QUERY_PATH",
    "RULE_BREAKS",
    "SCHEMA_BREAKS",
    "SCHEMA_BREAK_REQUESTS",
    "SINGLE_FRAME_BAD_DURATIONS",
    "SINGLE_FRAME_DURATIONS",
    "SPOTS",
    "TRANSPORT_BREAKS",
    "Break",
    "BrokenRequest",
    "Expected",
    "Mutation",
    "Patch",
    "Spot",
    "auth_breaks",
    "broken",
    "documented_images",
    "elements",
    "encode",
    "envelope",
    "escape",
    "for_schema",
    "image_urls",
    "invalid_requests",
    "job_ids",
    "leaf",
    "lenient_requests",
    "live_args",
    "live_requests",
    "matching",
    "price_bound",
    "resolve",
    "resolved",
    "rule_errors",
    "schema_args",
    "spots",
    "stripped",
    "valid_args",
    "valid_requests",
]
