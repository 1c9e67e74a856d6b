"""The drift report: ``drift.md``, ``drift.json`` and ``drift.xml`` (JUnit) in a folder.

Each disagreement is listed with its assumption ids and a curl reproducer whose key is
``$SHORTAPI_KEY`` (read from the shell). Bodies too big or not UTF-8 for a command line go
to ``bodies/`` beside the report and the reproducer reads them from there. Every file is
scrubbed of keys before it is written.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .drift import Disagreement
from .wire import scrub

INLINE_BODY = 4096  # bytes of a body a reproducer carries on its command line


@dataclass
class DriftReport:
    """The disagreements of one run, and what was compared or skipped."""

    target: str
    base_url: str  # where the target is: its URL, or "in-process, no socket" for the mock
    compared: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # item -> why it was not sent
    disagreements: list[Disagreement] = field(default_factory=list)
    budget: dict[str, Any] = field(default_factory=dict)

    def by_assumption(self) -> dict[str, int]:
        """Return how many disagreements touch each assumption id."""
        return dict(sorted(Counter(a for d in self.disagreements for a in d.assumptions).items()))

    def write(self, folder: Path) -> list[Path]:
        """Write drift.md, drift.json and drift.xml (and any big bodies) into `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        curls = [self._curl(d, folder) for d in self.disagreements]
        files = {
            "drift.json": json.dumps(self._data(curls), indent=2, ensure_ascii=False) + "\n",
            "drift.md": self._markdown(curls),
            "drift.xml": self._junit(curls),
        }
        for name, text in files.items():
            (folder / name).write_text(scrub(text), encoding="utf-8")
        return [folder / name for name in files]

    def _curl(self, disagreement: Disagreement, folder: Path) -> str:
        request, base = disagreement.exchange.request, disagreement.exchange.base_url
        try:
            request.body.decode("utf-8")
            inline = len(request.body) <= INLINE_BODY
        except UnicodeDecodeError:
            inline = False
        if inline:
            return request.curl(base)
        name = f"bodies/{hashlib.sha256(request.body).hexdigest()[:16]}.bin"
        (folder / "bodies").mkdir(exist_ok=True)
        (folder / name).write_bytes(scrub(request.body.decode("latin-1")).encode("latin-1"))
        return request.curl(base, body_file=name)

    def _data(self, curls: list[str]) -> dict[str, Any]:
        return {
            "target": self.target,
            "base_url": self.base_url,
            "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "compared": self.compared,
            "skipped": self.skipped,
            "assumptions": self.by_assumption(),
            "disagreements": [
                {**d.to_dict(), "curl": c} for d, c in zip(self.disagreements, curls, strict=True)
            ],
            "budget": self.budget,
        }

    def _markdown(self, curls: list[str]) -> str:
        lines = [
            f"# Drift report: {self.target} ({self.base_url})",
            "",
            f"{len(self.compared)} requests sent to the target and to the in-process mock; "
            f"{len(self.disagreements)} disagreement(s); {len(self.skipped)} not sent.",
        ]
        if self.budget:
            free = "" if self.budget.get("enforced") else " (not enforced: the target is free)"
            lines.append(
                f"Budget: spent ${self.budget.get('spent')} of the ${self.budget.get('cap')} "
                f"cap{free}."
            )
        if self.disagreements:
            lines += ["", "| assumption | disagreements |", "|---|---|"]
            lines += [f"| {a} | {n} |" for a, n in self.by_assumption().items()]
        for number, (d, curl) in enumerate(zip(self.disagreements, curls, strict=True), 1):
            lines += [
                "",
                f"## {number}. {d.kind}: {d.item}",
                "",
                d.detail
                + (" (reported only: the mock differs here on purpose)" if d.informational else ""),
                "",
                f"- assumptions: {', '.join(d.assumptions)}",
                f"- mock: `{json.dumps(d.mock, ensure_ascii=False)}`",
                f"- target: `{json.dumps(d.target, ensure_ascii=False)}`",
                "",
                "```sh",
                curl,
                "```",
            ]
        if self.skipped:
            lines += ["", "## Not sent", ""]
            lines += [f"- {item}: {why}" for item, why in sorted(self.skipped.items())]
        return "\n".join(lines) + "\n"

    def _junit(self, curls: list[str]) -> str:
        suite = ET.Element(
            "testsuite",
            name="shortapi-drift",
            tests=str(len(self.compared)),
            failures=str(len(self.disagreements)),
            skipped=str(len(self.skipped)),
        )
        cases = {
            name: ET.SubElement(suite, "testcase", classname="drift", name=name)
            for name in [*self.compared, *self.skipped]
        }
        for d, curl in zip(self.disagreements, curls, strict=True):
            failure = ET.SubElement(
                cases[d.item],
                "failure",
                message=f"{d.kind}: {d.detail} [{', '.join(d.assumptions)}]",
            )
            failure.text = f"mock: {d.mock!r}\ntarget: {d.target!r}\n{curl}"
        for name, why in self.skipped.items():
            ET.SubElement(cases[name], "skipped", message=why)
        return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
