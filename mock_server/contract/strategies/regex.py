"""Simple regular expressions (the schemas' patterns) as Hypothesis strategies, and as
seeded samplers for values drawn once (`sampler`).

`matching` translates literals, classes, repeats, groups and alternation into `st.text`
pieces (several times faster than `st.from_regex`); a run of pieces that match few strings
(``https?://``, ``\\.(png|jpe?g)``) is one draw among their concatenations: each draw costs
Hypothesis about as much as the whole piece.
"""

from __future__ import annotations

import importlib
import itertools
import random
import sys
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

__all__ = ["matching", "one_class", "sampler"]

# The regex parser (private in 3.11+, where importing `sre_parse` warns).
_REGEX: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")


class _Unsupported(Exception):
    """A regex construct the fast translation does not handle."""


_CATEGORIES: dict[str, Callable[[str], bool]] = {
    "CATEGORY_SPACE": str.isspace,
    "CATEGORY_NOT_SPACE": lambda c: not c.isspace(),
    "CATEGORY_DIGIT": str.isdigit,
    "CATEGORY_NOT_DIGIT": lambda c: not c.isdigit(),
    "CATEGORY_WORD": lambda c: c.isalnum() or c == "_",
    "CATEGORY_NOT_WORD": lambda c: not (c.isalnum() or c == "_"),
}


def _in_class(char: str, items: Any) -> bool:
    negate, hit = False, False
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            hit = hit or ord(char) == arg
        elif name == "RANGE":
            hit = hit or arg[0] <= ord(char) <= arg[1]
        elif name == "CATEGORY" and str(arg) in _CATEGORIES:
            hit = hit or _CATEGORIES[str(arg)](char)
        else:
            raise _Unsupported(name)
    return hit != negate


def _chars(op: Any, arg: Any, alphabet: str) -> str:
    name = str(op)
    if name == "LITERAL":
        return chr(arg)
    if name == "NOT_LITERAL":
        return "".join(c for c in alphabet if ord(c) != arg)
    if name == "ANY":
        return alphabet.replace("\n", "")
    if name == "IN":
        return "".join(c for c in alphabet if _in_class(c, arg))
    raise _Unsupported(name)


_MERGED = 64  # a piece with this many strings or fewer is one draw among them


def _finite(op: Any, arg: Any, alphabet: str) -> list[str] | None:
    """Return every string a piece matches if they are few (``[Hh]``, ``(png|jpe?g)``)."""
    name = str(op)
    if name == "AT":  # ^ and $: the whole string is drawn, they hold by construction
        return [""]
    if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
        chars = _chars(op, arg, alphabet)
        return list(chars) if len(chars) <= _MERGED else None
    if name == "SUBPATTERN" and not arg[1] and not arg[2]:
        return _finite_sequence(arg[3], alphabet)
    if name == "BRANCH":
        branches = [_finite_sequence(branch, alphabet) for branch in arg[1]]
        found = list(dict.fromkeys(s for b in branches if b is not None for s in b))
        return found if None not in branches and len(found) <= _MERGED else None
    if name in ("MAX_REPEAT", "MIN_REPEAT") and arg[1] != _REGEX.MAXREPEAT:
        inner = _finite_sequence(arg[2], alphabet)
        if inner is None or len(inner) ** arg[1] > _MERGED:
            return None
        found = [
            "".join(p)
            for n in range(arg[0], arg[1] + 1)
            for p in itertools.product(inner, repeat=n)
        ]
        found = list(dict.fromkeys(found))
        return found if len(found) <= _MERGED else None
    return None


def _finite_sequence(items: Any, alphabet: str) -> list[str] | None:
    found = [""]
    for op, arg in items:
        piece = _finite(op, arg, alphabet)
        if piece is None or len(found) * len(piece) > _MERGED:
            return None
        found = [a + b for a in found for b in piece]
    return list(dict.fromkeys(found))


def _sequence(items: Any, alphabet: str) -> st.SearchStrategy[str]:
    """Return the strings of a sequence of pieces: a run of pieces that match few strings
    (``https?://``, ``\\.(png|jpe?g)``) is one draw among their concatenations (each draw
    costs Hypothesis about as much as the whole piece)."""
    parts: list[st.SearchStrategy[str]] = []
    run = [""]  # the strings the current run of finite pieces may be

    def flush() -> None:
        if run != [""]:
            parts.append(st.sampled_from(run[:]))
        run[:] = [""]

    for op, arg in items:
        piece = _finite(op, arg, alphabet)
        if piece is None:
            flush()
            parts.append(_piece(op, arg, alphabet))
            continue
        if len(run) * len(piece) > _MERGED:
            flush()
        run[:] = list(dict.fromkeys(a + b for a in run for b in piece))
    flush()
    if not parts:
        return st.just("")
    if len(parts) == 1:
        return parts[0]
    return st.tuples(*parts).map("".join)


def _piece(op: Any, arg: Any, alphabet: str) -> st.SearchStrategy[str]:
    name = str(op)
    if name == "AT":
        return st.just("")
    if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
        return st.sampled_from(_chars(op, arg, alphabet))
    if name in ("MAX_REPEAT", "MIN_REPEAT"):
        low, high, inner = arg
        high = low + 16 if high == _REGEX.MAXREPEAT else high  # short, readable values
        if len(inner) == 1 and str(inner[0][0]) in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
            char_op, char_arg = inner[0]
            return st.text(_chars(char_op, char_arg, alphabet), min_size=low, max_size=high)
        if (low, high) == (0, 1):  # optional: one draw, not a list's two
            return st.one_of(st.just(""), _sequence(inner, alphabet))
        return st.lists(_sequence(inner, alphabet), min_size=low, max_size=high).map("".join)
    if name == "SUBPATTERN" and not arg[1] and not arg[2]:
        return _sequence(arg[3], alphabet)
    if name == "BRANCH":
        return st.one_of([_sequence(branch, alphabet) for branch in arg[1]])
    raise _Unsupported(name)


def matching(pattern: str, alphabet: str) -> st.SearchStrategy[str]:
    """Return strings over `alphabet` that match `pattern` in full.

    Simple patterns (literals, classes, repeats, groups, alternation) are translated into
    `st.text` pieces, several times faster than `st.from_regex`; others use `from_regex`.
    """
    try:
        return _sequence(_REGEX.parse(pattern), alphabet)
    except _Unsupported:
        return st.from_regex(pattern, fullmatch=True, alphabet=alphabet)


Sample = Callable[[random.Random], str]


def _sampled(items: Any, alphabet: str) -> Sample:
    """Return a sampler of a sequence of pieces (each piece's characters worked out once)."""
    pieces = [_sampled_piece(op, arg, alphabet) for op, arg in items]
    return lambda rng: "".join(piece(rng) for piece in pieces)


def _sampled_piece(op: Any, arg: Any, alphabet: str) -> Sample:
    """Return a sampler of one piece, drawn as `_piece` draws it (repeats capped alike)."""
    name = str(op)
    if name == "AT":
        return lambda rng: ""
    if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
        chars = _chars(op, arg, alphabet)
        return lambda rng: rng.choice(chars)
    if name in ("MAX_REPEAT", "MIN_REPEAT"):
        low, high, inner = arg
        high = low + 16 if high == _REGEX.MAXREPEAT else high
        once = _sampled(inner, alphabet)
        return lambda rng: "".join(once(rng) for _ in range(rng.randint(low, high)))
    if name == "SUBPATTERN" and not arg[1] and not arg[2]:
        return _sampled(arg[3], alphabet)
    if name == "BRANCH":
        branches = [_sampled(branch, alphabet) for branch in arg[1]]
        return lambda rng: rng.choice(branches)(rng)
    raise _Unsupported(name)


def sampler(pattern: str, alphabet: str) -> Sample | None:
    """Return a function of a random generator giving strings over `alphabet` that match
    `pattern` in full, or None when the pattern is not one `matching` translates."""
    try:
        return _sampled(_REGEX.parse(pattern), alphabet)
    except _Unsupported:
        return None


def one_class(pattern: str) -> bool:
    """Say whether `pattern` (searched, not anchored) asks for one character of a class."""
    items = list(_REGEX.parse(pattern))
    return len(items) == 1 and str(items[0][0]) in ("IN", "NOT_LITERAL")
