"""The proxy's drift report: every finding of every answer, in the contract kit's format.

`Findings` keeps one `DriftReport` (target ``proxy``) and writes ``drift.md``,
``drift.json`` and ``drift.xml`` into the report folder on each finding and when the proxy
stops, so the file on disk is never behind what the proxy saw.
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

from mock_server.contract.drift import Disagreement
from mock_server.contract.report import DriftReport


class Findings:
    """The disagreements the proxy found, and the exchanges it checked."""

    def __init__(self, base_url: str, report_dir: Path | None) -> None:
        self.report = DriftReport("proxy", base_url)
        self.report_dir = report_dir
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)

    def name(self, what: str) -> str:
        """Return a new exchange name, ``proxy/0001-<what>`` (the report's item names)."""
        return f"proxy/{next(self._numbers):04d}-{what}"

    def add(self, item: str, found: list[Disagreement]) -> None:
        """Count `item` as checked and add what was found in it (writing the report)."""
        with self._lock:
            if item not in self.report.compared:
                self.report.compared.append(item)
            self.report.disagreements += found
            if found:
                self._write()

    @property
    def disagreements(self) -> list[Disagreement]:
        """Every finding so far."""
        with self._lock:
            return list(self.report.disagreements)

    def write(self) -> list[Path]:
        """Write the report files now (nothing without a report folder)."""
        with self._lock:
            return self._write()

    def _write(self) -> list[Path]:
        if self.report_dir is None:
            return []
        return self.report.write(self.report_dir)
