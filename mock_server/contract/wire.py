"""What goes over the wire: requests, responses and exchanges, with the key kept out.

A request never holds the API key: its Authorization header says ``Bearer $SHORTAPI_KEY``
and a target puts the real key in only while sending. Every text this package writes goes
through `scrub`, which replaces any key it has seen with ``$SHORTAPI_KEY``.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlencode

from mock_server.contract.strategies import BEARER, CREATE_PATH, QUERY_PATH, BrokenRequest, encode
from mock_server.keys import LIVE_KEY

PLACEHOLDER = "$SHORTAPI_KEY"
_SPLICED = 1 << 20  # bytes: a bigger JSON body gets a key spliced in (`with_key`)
KEPT_HEADERS = ("content-type", "retry-after", "allow")  # and every x-mock-* header
_BEARER_TOKEN = re.compile(r"(?i)(bearer\s+)(?!\$SHORTAPI_KEY)([^\s\"'\\,;]+)")


class Secret:
    """An API key that never prints: `str` and `repr` show ``$SHORTAPI_KEY``."""

    known: ClassVar[set[str]] = set()

    def __init__(self, value: str) -> None:
        self._value = value
        if value:
            Secret.known.add(value)

    def reveal(self) -> str:
        """Return the key itself (for the Authorization header only)."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return PLACEHOLDER

    __str__ = __repr__


def scrub(text: str) -> str:
    """Return `text` with every key seen, every Bearer token and every live-format key
    (``ak-`` and 32 hex digits) replaced by the placeholder."""
    for value in sorted(Secret.known, key=len, reverse=True):
        text = text.replace(value, PLACEHOLDER)
    if "ak-" in text:
        text = LIVE_KEY.sub(PLACEHOLDER, text)
    return _BEARER_TOKEN.sub(lambda m: m.group(1) + PLACEHOLDER, text)


def _body_fields(body: bytes) -> dict[str, str]:
    try:
        return {"body": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(body).decode("ascii")}


def _body_of(data: Mapping[str, Any]) -> bytes:
    if "body_base64" in data:
        return base64.b64decode(data["body_base64"])
    return str(data.get("body", "")).encode("utf-8")


def json_or_none(body: bytes) -> Any:
    """Return `body` parsed as JSON, or None when it is not JSON."""
    try:
        return json.loads(body)
    except ValueError:
        return None


def _copy(value: Any) -> Any:
    """Return a copy of parsed JSON: its own dicts and lists, the (immutable) rest shared."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


@dataclass(frozen=True, repr=False)
class WireRequest:
    """One HTTP request to the API, without the key."""

    method: str
    path: str
    query: str = ""
    body: bytes = b""
    content_type: str | None = None
    authorization: str | None = BEARER
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def create(cls, body: Any, *, headers: Mapping[str, str] | None = None) -> WireRequest:
        """Return a create request with `body` as JSON and the run's key."""
        extra = tuple((headers or {}).items())
        return cls("POST", CREATE_PATH, "", encode(body), "application/json", BEARER, extra)

    @classmethod
    def job_query(cls, job_id: str) -> WireRequest:
        """Return the query of job `job_id` with the run's key."""
        return cls("GET", QUERY_PATH, urlencode({"id": job_id}))

    @classmethod
    def from_broken(cls, broken: BrokenRequest) -> WireRequest:
        """Return the request a `BrokenRequest` describes."""
        return cls(
            broken.method,
            broken.path,
            broken.query,
            broken.body,
            broken.content_type,
            broken.authorization,
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Print the short repr in Hypothesis reports (bodies can be a megabyte)."""
        printer.text(repr(self))

    def __repr__(self) -> str:
        body = self.body if len(self.body) <= 600 else self.body[:580] + b"..."
        return scrub(
            f"WireRequest({self.method} {self.target}, {self.shown_headers()}, "
            f"body[{len(self.body)}]={body!r})"
        )

    @property
    def target(self) -> str:
        """The path with its query string."""
        return f"{self.path}?{self.query}" if self.query else self.path

    @functools.cached_property
    def _parsed(self) -> Any:
        return json_or_none(self.body)

    def json(self) -> Any:
        """Return the body parsed as JSON, or None (parsed once per request: a size-limit
        probe's body is 320 MiB; each call gets its own copy)."""
        return _copy(self._parsed)

    def send_headers(self, key: Secret) -> dict[str, str]:
        """Return the headers to send, the real key put in."""
        return self._headers(key.reveal())

    def shown_headers(self) -> dict[str, str]:
        """Return the headers as recorded and shown (the key as its placeholder)."""
        return self._headers(PLACEHOLDER)

    def _headers(self, key: str) -> dict[str, str]:
        headers = dict(self.headers)
        if self.content_type is not None:
            headers["Content-Type"] = self.content_type
        if self.authorization is not None:
            headers["Authorization"] = self.authorization.replace(PLACEHOLDER, key)
        return headers

    def with_body(self, body: Any) -> WireRequest:
        """Return this request with another JSON body."""
        return WireRequest(
            self.method,
            self.path,
            self.query,
            encode(body),
            self.content_type,
            self.authorization,
            self.headers,
        )

    def with_key(self, key: str, value: Any) -> WireRequest:
        """Return this request with `key` added to its JSON object body (it has no `key`).

        A body past `_SPLICED` gets the key spliced in before its closing brace: the same
        JSON (the same bytes as `with_body` gives when the body is `encode`'s, as the kit's
        are) without encoding 320 MiB again.
        """
        body = self._parsed
        if not isinstance(body, dict) or key in body:
            raise ValueError(f"the body is not a JSON object without {key!r}")
        if len(self.body) <= _SPLICED or not self.body.endswith(b"}"):
            return self.with_body({**self.json(), key: value})
        added = (b", " if body else b"") + encode(key) + b": " + encode(value) + b"}"
        request = dataclasses.replace(self, body=b"".join((memoryview(self.body)[:-1], added)))
        request.__dict__["_parsed"] = {**body, key: value}  # the same JSON: not parsed again
        return request

    def with_headers(self, **headers: str) -> WireRequest:
        """Return this request with extra headers."""
        merged = (*self.headers, *headers.items())
        request = WireRequest(
            self.method,
            self.path,
            self.query,
            self.body,
            self.content_type,
            self.authorization,
            merged,
        )
        if "_parsed" in self.__dict__:  # the same body: parsed already
            request.__dict__["_parsed"] = self.__dict__["_parsed"]
        return request

    def curl(self, base_url: str, *, body_file: str | None = None) -> str:
        """Return a curl command that sends this request (the key read from the shell)."""
        parts = ["curl", "-sS", "-X", self.method, shlex.quote(base_url.rstrip("/") + self.target)]
        for name, value in self.shown_headers().items():
            header = f"{name}: {value}"
            quoted = f'"{header}"' if PLACEHOLDER in value else shlex.quote(header)
            parts += ["-H", quoted]
        if body_file:
            parts += ["--data-binary", shlex.quote("@" + body_file)]
        elif self.body:
            parts += ["--data-binary", shlex.quote(self.body.decode("utf-8", "replace"))]
        return scrub(" ".join(parts))

    def to_dict(self) -> dict[str, Any]:
        """Return the request as JSON-ready data (never the key)."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "content_type": self.content_type,
            "authorization": self.authorization,
            "headers": dict(self.headers),
            **_body_fields(self.body),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WireRequest:
        """Build a request from `to_dict` output."""
        return cls(
            data["method"],
            data["path"],
            data.get("query", ""),
            _body_of(data),
            data.get("content_type"),
            data.get("authorization"),
            tuple(dict(data.get("headers", {})).items()),
        )


@dataclass(frozen=True, repr=False)
class WireResponse:
    """One HTTP answer: status, the headers that matter, body."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    @classmethod
    def of(cls, status: int, headers: Any, body: bytes) -> WireResponse:
        """Return a response keeping only the headers the checks read."""
        items = headers.items() if hasattr(headers, "items") else headers
        kept = tuple(
            (name, str(value))
            for name, value in items
            if name.lower() in KEPT_HEADERS or name.lower().startswith("x-mock-")
        )
        return cls(status, kept, body)

    def __repr__(self) -> str:
        body = self.body if len(self.body) <= 600 else self.body[:580] + b"..."
        return scrub(f"WireResponse({self.status}, {dict(self.headers)}, body={body!r})")

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Print the short, scrubbed repr in Hypothesis reports."""
        printer.text(repr(self))

    def header(self, name: str) -> str | None:
        """Return the value of header `name` (any case), or None."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def json(self) -> Any:
        """Return the body parsed as JSON, or None."""
        return json_or_none(self.body)

    @property
    def accepted(self) -> bool:
        """Say whether the API accepted the request (2xx and code 0)."""
        body = self.json()
        return self.status < 300 and isinstance(body, dict) and body.get("code") == 0

    def to_dict(self) -> dict[str, Any]:
        """Return the response as JSON-ready data."""
        return {"status": self.status, "headers": dict(self.headers), **_body_fields(self.body)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WireResponse:
        """Build a response from `to_dict` output."""
        return cls(
            int(data["status"]), tuple(dict(data.get("headers", {})).items()), _body_of(data)
        )


@dataclass(frozen=True)
class Exchange:
    """A request, the answer it got, and when (target seconds since the job's creation)."""

    request: WireRequest
    response: WireResponse
    at: float = 0.0
    waited: tuple[float, ...] = field(default=())  # Retry-After delays honoured first
    base_url: str = "https://api.shortapi.ai"  # where it was sent (for the reproducer)

    def describe(self, limit: int = 400) -> str:
        """Return a one-line account of the exchange, the key scrubbed."""
        text = self.response.body.decode("utf-8", "replace")
        text = text if len(text) <= limit else text[: limit - 3] + "..."
        return scrub(
            f"{self.request.method} {self.request.target} -> {self.response.status} {text}"
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the exchange as JSON-ready data."""
        return {
            "at": self.at,
            "waited": list(self.waited),
            "base_url": self.base_url,
            "request": self.request.to_dict(),
            "response": self.response.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Exchange:
        """Build an exchange from `to_dict` output."""
        return cls(
            WireRequest.from_dict(data["request"]),
            WireResponse.from_dict(data["response"]),
            float(data.get("at", 0.0)),
            tuple(data.get("waited", ())),
        )
