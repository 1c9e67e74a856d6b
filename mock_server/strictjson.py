"""Strict JSON in and out: what RFC 8259 calls JSON, and text every encoder can write.

Python's `json` reads ``NaN``, ``Infinity`` and ``-Infinity``, turns ``1e999`` into an
infinite float and writes all of them back bare, which is not JSON: a client's parser (and
the dashboard's) then fails on every answer holding one. It also raises a bare `ValueError`
on an integer of more than 4,300 digits (Python's int-string conversion limit), and keeps
lone surrogates (``"\\ud800"``) that no UTF-8 encoder can write. `loads` refuses all of
these with a JSON pointer to the first such value; `dumps` writes with ``allow_nan=False``
as a last guard for answers.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

# Python refuses to convert longer digit strings (sys.get_int_max_str_digits, 4300 by
# default); a count no JSON client needs, refused by name instead of by a ValueError.
MAX_INT_DIGITS = 4300


class StrictJSONError(ValueError):
    """A document that parses but is not strict JSON: `pointer` names the first bad value."""

    def __init__(self, pointer: str, what: str) -> None:
        super().__init__(f"{pointer or '/'}: {what}")
        self.pointer = pointer
        self.what = what


class _Bad:
    """Stands in, while parsing, for a value strict JSON does not hold (found by the walk)."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what


def _constant(name: str) -> _Bad:
    return _Bad(f"{name} is not JSON; send a finite number (or null)")


def _float(text: str) -> float | _Bad:
    value = float(text)
    if not math.isfinite(value):
        return _Bad(f"{text[:40]} overflows to infinity, which is not JSON; send a finite number")
    return value


def _int(text: str) -> int | _Bad:
    digits = len(text.lstrip("-"))
    python_limit = getattr(sys, "get_int_max_str_digits", lambda: 0)()  # from Python 3.10.7
    limit = min(MAX_INT_DIGITS, python_limit or MAX_INT_DIGITS)
    if digits > limit:
        return _Bad(f"an integer of {digits:,} digits; send at most {limit:,} digits")
    return int(text)


def loads(data: str | bytes) -> Any:
    """Parse `data` as strict JSON, or raise `StrictJSONError` (a `ValueError`) naming the
    first NaN, infinity, over-long integer or unencodable string by its pointer; malformed
    text raises `json.JSONDecodeError` as `json.loads` does."""
    value = json.loads(data, parse_constant=_constant, parse_float=_float, parse_int=_int)
    check(value)
    return value


def check(value: Any) -> None:
    """Raise `StrictJSONError` at the first value of `value` that strict JSON cannot hold."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:  # no recursion: json.loads parses deeper than Python recurses
        pointer, item = stack.pop()
        if isinstance(item, str):
            if not encodable(item):
                raise StrictJSONError(pointer, _UNENCODABLE)
        elif isinstance(item, dict):
            for key, child in item.items():
                token = escape(str(key))
                if isinstance(key, str) and not encodable(key):
                    shown = escape(key.encode("ascii", "backslashreplace").decode("ascii"))
                    raise StrictJSONError(pointer + "/" + shown, "the key " + _UNENCODABLE)
                stack.append((pointer + "/" + token, child))
        elif isinstance(item, list):
            stack.extend((f"{pointer}/{index}", child) for index, child in enumerate(item))
        elif isinstance(item, _Bad):
            raise StrictJSONError(pointer, item.what)
        elif isinstance(item, float) and not math.isfinite(item):
            raise StrictJSONError(pointer, "NaN and infinities are not JSON; send a finite number")


_UNENCODABLE = (
    "holds a lone surrogate (an unpaired \\ud800-\\udfff escape), which no UTF-8 text can "
    "carry; send the character's full surrogate pair, or the character itself"
)


def encodable(text: str) -> bool:
    """Say whether `text` can be written as UTF-8 (no lone surrogates)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def escape(token: str) -> str:
    """Escape one JSON pointer token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def dumps(value: Any, **kwargs: Any) -> str:
    """Write `value` as JSON, refusing NaN and infinities (`ValueError`) as a last guard."""
    return json.dumps(value, allow_nan=False, **kwargs)
