"""Contract examples per second against the in-process mock, valid and invalid, beside the
target of issue 15 (generated, sent, answered and checked: `contract_tests.measure.rates`).
Prints the figures; writes reports/bench-contract.json."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # see bench/__init__.py
from bench.common import ROOT, write_json
from contract_tests.measure import rates

TARGET = 300.0  # examples per second, valid and invalid alike (issue 15)


def main() -> int:
    """Measure both rates in one process; print them beside the target."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=300)
    args = parser.parse_args()
    measured = rates(args.examples)
    result = {
        "examples": args.examples,
        "target_per_second": TARGET,
        **{f"{kind}_per_second": round(rate, 1) for kind, rate in measured.items()},
        **{f"{kind}_met": rate >= TARGET for kind, rate in measured.items()},
    }
    for kind, rate in measured.items():
        verdict = "met" if rate >= TARGET else "NOT met"
        print(f"contract {kind} examples: {rate:.1f}/s (target >= {TARGET:.0f}/s: {verdict})")
    write_json(ROOT / "reports" / "bench-contract.json", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
