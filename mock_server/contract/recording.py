"""Record a target's exchanges to a JSON file, and replay such a file as a target.

A recording holds the plan it was made with and, for each item, every exchange in order
with its time (target seconds since the job's creation). `ReplayTarget` answers each
request with the next recorded answer to the same request, keeps a virtual clock set to
the recorded times, and hands the plan back, so the suite sends exactly what was recorded.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

from .plan import PlanItem
from .targets import Target, TargetError
from .wire import Exchange, Secret, WireRequest, WireResponse, scrub

FORMAT = "shortapi-recording/1"


MAX_BODY = 64 * 1024  # bytes: items with bigger request bodies are left out of recordings


class Recorder:
    """Collect exchanges per plan item (use `observe` as the client's `observe` hook)."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.left_out: list[str] = []

    def begin(self, item: PlanItem) -> None:
        """Start (or restart) the recording of `item` (unless its body is too big to keep)."""
        if len(item.request.body) > MAX_BODY:
            self.left_out.append(item.name)
            return
        self.items[item.name] = {"item": item.to_dict(), "exchanges": []}

    def observe(self, name: str, exchange: Exchange) -> None:
        """Record one exchange of item `name` (ignored when no item of that name began)."""
        if name in self.items:
            self.items[name]["exchanges"].append(exchange.to_dict())

    def save(self, path: Path, *, target: Target, notes: list[str] | None = None) -> Path:
        """Write the recording to `path` (keys scrubbed) and return it."""
        data = {
            "format": FORMAT,
            "target": target.name,
            "base_url": target.base_url,
            "notes": notes or [],
            "items": list(self.items.values()),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            scrub(json.dumps(data, indent=1, ensure_ascii=False)) + "\n", encoding="utf-8"
        )
        return path


def _fingerprint(request: WireRequest) -> tuple[Any, ...]:
    """What identifies a request in a recording (extra headers left out)."""
    return (
        request.method,
        request.path,
        request.query,
        request.body,
        request.content_type,
        request.authorization,
    )


class ReplayTarget(Target):
    """A recording, answering as the recorded target did; no controls, no cost."""

    name = "replay"

    def __init__(self, path: Path) -> None:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise TargetError(f"{path} is not a {FORMAT} recording")
        super().__init__(str(data.get("base_url", "https://api.shortapi.ai")))
        self.path, self.items = Path(path), list(data["items"])
        self.recorded_target = str(data.get("target", "recorded"))
        self._answers: dict[tuple[Any, ...], deque[Exchange]] = defaultdict(deque)
        self._last: dict[tuple[Any, ...], Exchange] = {}
        for entry in self.items:
            for raw in entry["exchanges"]:
                exchange = Exchange.from_dict(raw)
                self._answers[_fingerprint(exchange.request)].append(exchange)
        self._now = 0.0

    def send(self, request: WireRequest, key: Secret) -> WireResponse:
        """Answer with the next recorded answer to `request` (the last one, once used up)."""
        key_of = _fingerprint(request)
        queue = self._answers.get(key_of)
        if queue:
            self._last[key_of] = queue.popleft()
        elif key_of not in self._last:
            raise TargetError(
                f"no recorded answer to {request.method} {request.target} in {self.path.name}"
            )
        exchange = self._last[key_of]
        self._now = exchange.at
        return exchange.response

    def clock(self) -> float:
        """Return the recorded time of the last answer."""
        return self._now

    def sleep(self, seconds: float) -> None:
        """Do not wait: the recorded times say when things happened."""

    def recorded_plan(self) -> list[dict[str, Any]]:
        """Return the plan the recording was made with."""
        return [entry["item"] for entry in self.items]
