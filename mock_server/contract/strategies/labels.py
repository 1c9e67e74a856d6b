"""What a generated request is labelled with: the answer it must get and the rule it breaks.

Also the wire-level names every strategy shares: the two API paths, the key placeholder of
the Authorization header (the run's key is put in by the transport, never stored), and the
JSON encoding a client sends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mock_server.errors import BAD_REQUEST, INVALID_PARAMETER
from mock_server.strictjson import escape  # one JSON pointer segment (re-exported)

__all__ = [
    "ACCEPTED",
    "ALWAYS",
    "BAD_BODY",
    "BEARER",
    "CREATE_PATH",
    "INVALID",
    "QUERY_PATH",
    "BrokenRequest",
    "Expected",
    "broken",
    "encode",
    "escape",
]

CREATE_PATH = "/api/v1/job/create"
QUERY_PATH = "/api/v1/job/query"
BEARER = "Bearer $SHORTAPI_KEY"  # the run's key is put in by the transport, never stored
ALWAYS = ("A-error-codes", "A-error-message-info")  # exercised by every rejected request


@dataclass(frozen=True)
class Expected:
    """The answer a request must get: HTTP status and envelope code (0 when accepted)."""

    status: int
    code: int

    @property
    def accepted(self) -> bool:
        """Say whether the request must be accepted."""
        return self.status < 400


ACCEPTED = Expected(200, 0)
INVALID = Expected(400, INVALID_PARAMETER)
BAD_BODY = Expected(400, BAD_REQUEST)


@dataclass(frozen=True, repr=False)
class BrokenRequest:
    """A request with exactly one rule broken, labelled with the rule and its answer."""

    label: str  # what is broken where, e.g. "schema.enum:/args/mode"
    rule: str  # the mock's rule name, e.g. "schema.enum" or "duration.frame_single_image"
    pointer: str | None  # the JSON pointer the mock's problem names; None: not a body problem
    expected: Expected
    assumptions: tuple[str, ...]
    body: bytes = b""
    content_type: str | None = "application/json"
    authorization: str | None = BEARER
    method: str = "POST"
    path: str = CREATE_PATH
    query: str = ""

    def json(self) -> Any:
        """Return the body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Print the short repr in Hypothesis reports (bodies can be a megabyte)."""
        printer.text(repr(self))

    def __repr__(self) -> str:
        body = self.body if len(self.body) <= 600 else self.body[:580] + b"..."
        return (
            f"BrokenRequest({self.label!r}, expected={self.expected}, {self.method} "
            f"{self.path}{'?' + self.query if self.query else ''}, "
            f"authorization={self.authorization!r}, content_type={self.content_type!r}, "
            f"body[{len(self.body)}]={body!r})"
        )


def broken(
    label: str, expected: Expected, ids: tuple[str, ...], body: bytes = b"", **fields: Any
) -> BrokenRequest:
    """Return a `BrokenRequest` whose rule is its label, with the always-exercised ids."""
    extra = () if expected.accepted else ALWAYS
    return BrokenRequest(
        label, label, fields.pop("pointer", None), expected, (*ids, *extra), body, **fields
    )


def encode(value: Any) -> bytes:
    """Return `value` as the UTF-8 JSON bytes a client sends."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8")
