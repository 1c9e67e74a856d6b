"""``--record FILE``: the proxied exchanges, in the contract kit's recording format.

The file is a ``shortapi-recording/1`` document (`contract/recording.py`), so
``shortapi-mock contract --target replay:FILE`` replays it and ``shortapi-mock serve
--replay FILE`` answers its jobs. Each create is a plan item (``job`` when the target
accepted it, else ``invalid``, expecting what the mock answers), with the create's exchange
and then every query of its job, timed from the create. A job not seen to a terminal status
goes under ``unfinished`` (the suite would poll its replay forever); callbacks are kept
beside their job, other requests (uploads...) under ``other``.

Keys never reach the file: requests keep ``Authorization: Bearer $SHORTAPI_KEY``, and every
string of the document (each body parsed and walked too) is scrubbed of every key seen, every
Bearer token, live-format key and key-like query parameter, before it is written with a JSON
encoder, so the file is always JSON.
The file is rewritten (atomically) at most once a second while exchanges come (the first at
once, the last within SAVE_SECONDS), and on stop: a busy proxy does not rewrite a growing
file per request.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from mock_server.contract.plan import JOB_ASSUMPTIONS, PlanItem
from mock_server.contract.recording import FORMAT
from mock_server.contract.strategies import Expected
from mock_server.contract.wire import Exchange, json_or_none, scrub
from mock_server.jobs.status import TERMINAL
from mock_server.keys import redact_params

SAVE_SECONDS = 1.0  # the longest the file lags the exchanges while the proxy runs


def redacted(text: str) -> str:
    """Return `text` with every key seen, Bearer token and key-like parameter masked."""
    return redact_params(scrub(text))


def redacted_value(value: Any) -> Any:
    """Return `value` with every string in it redacted, walking the structure (never the
    encoded text, whose escapes a mask could cut): a string holding a JSON object or array
    (a body) is parsed, redacted the same way and written back as JSON."""
    if isinstance(value, str):
        if value[:1] in ("{", "["):
            parsed = json_or_none(value.encode("utf-8", "surrogatepass"))
            if isinstance(parsed, (dict, list)):
                return json.dumps(redacted_value(parsed), ensure_ascii=False)
        return redacted(value)
    if isinstance(value, dict):
        return {redacted(str(k)): redacted_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted_value(item) for item in value]
    return value


class ProxyRecorder:
    """The exchanges of one proxy run, saved to `path` as they happen."""

    def __init__(self, path: Path, target: str) -> None:
        self.path, self.target = path, target
        self._lock = threading.Lock()
        self._items: dict[str, dict[str, Any]] = {}  # item name -> entry
        self._by_job: dict[str, str] = {}  # job id -> item name
        self._other: list[dict[str, Any]] = []
        self._started: dict[str, float] = {}  # item name -> monotonic time of its create
        self._saved_at = -SAVE_SECONDS  # monotonic time of the last write
        self._pending: threading.Timer | None = None  # the write a change is waiting for

    def create(
        self, item: PlanItem, exchange: Exchange, job_id: str | None, *, save: bool = True
    ) -> None:
        """Record a create: a new plan item, its first exchange, the job it made."""
        with self._lock:
            self._items[item.name] = {
                "item": item.to_dict(),
                "exchanges": [exchange.to_dict()],
                "callbacks": [],
                "job_id": job_id,
                "terminal": job_id is None,
            }
            self._started[item.name] = time.monotonic()
            if job_id:
                self._by_job[job_id] = item.name
            if save:
                self._changed()

    def query(self, job_id: str, exchange: Exchange, status: int | None) -> bool:
        """Record a query of a recorded job (timed from its create); say if it was one."""
        with self._lock:
            name = self._by_job.get(job_id)
            if name is None:
                self._other.append(exchange.to_dict())
                self._changed()
                return False
            at = round(time.monotonic() - self._started[name], 3)
            entry = self._items[name]
            entry["exchanges"].append({**exchange.to_dict(), "at": at})
            entry["terminal"] = entry["terminal"] or status in TERMINAL
            self._changed()
            return True

    def callback(self, job_id: str | None, body: Any) -> None:
        """Record a callback body beside its job (or under ``other``)."""
        with self._lock:
            name = self._by_job.get(job_id or "")
            if name is None:
                self._other.append({"callback": body})
            else:
                self._items[name]["callbacks"].append(body)
            self._changed()

    def other(self, exchange: Exchange) -> None:
        """Record an exchange that is neither a create nor a query (an upload...)."""
        with self._lock:
            self._other.append(exchange.to_dict())
            self._changed()

    def item_of(self, job_id: str) -> str | None:
        """Return the item name of the create that made `job_id`, if recorded."""
        with self._lock:
            return self._by_job.get(job_id)

    def save(self) -> Path:
        """Write the recording now (the proxy's stop does)."""
        with self._lock:
            if self._pending is not None:
                self._pending.cancel()
                self._pending = None
            return self._save()

    def _changed(self) -> None:
        """Write now if the last write is SAVE_SECONDS old, else once that much has passed."""
        waited = time.monotonic() - self._saved_at
        if waited >= SAVE_SECONDS:
            self._save()
        elif self._pending is None:
            self._pending = threading.Timer(SAVE_SECONDS - waited, self._deferred)
            self._pending.daemon = True
            self._pending.start()

    def _deferred(self) -> None:
        with self._lock:
            self._pending = None
            self._save()

    def _save(self) -> Path:
        done = [e for e in self._items.values() if e["terminal"]]
        running = [e for e in self._items.values() if not e["terminal"]]

        def public(entry: dict[str, Any]) -> dict[str, Any]:
            return {k: entry[k] for k in ("item", "exchanges", "callbacks", "job_id")}

        data = {
            "format": FORMAT,
            "target": "proxy",
            "base_url": self.target,
            "notes": [
                "recorded by shortapi-mock proxy; jobs not seen to a terminal status are "
                "under 'unfinished' (serve --replay answers them, the contract suite does not)"
            ],
            "items": [public(e) for e in done],
            "unfinished": [public(e) for e in running],
            "other": self._other,
        }
        text = json.dumps(redacted_value(data), indent=1, ensure_ascii=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.path)
        self._saved_at = time.monotonic()
        return self.path


def plan_item(
    name: str,
    exchange: Exchange,
    *,
    refused: tuple[int, int] | None,
    price: str,
    assumptions: tuple[str, ...] = (),
) -> PlanItem:
    """Return the plan item of a proxied create: what the mock expects of it, what it costs."""
    accepted = exchange.response.accepted
    expected = Expected(*refused) if refused else Expected(200, 0)
    kind = "job" if accepted else "invalid"
    ids = JOB_ASSUMPTIONS if accepted else ("A-error-codes", *assumptions)
    return PlanItem(name, kind, exchange.request, expected, ids, bound=price)
