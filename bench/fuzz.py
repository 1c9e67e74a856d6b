"""``make fuzz``: the fuzz property of tests/test_fuzz.py over many requests (100k by default):
never a 5xx, never a body that is not JSON. Prints the count, the rate and the statuses seen."""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # see bench/__init__.py
from bench.common import write_json
from mock_server import create_app
from tests.fuzzing import check_answer, requests_


def main() -> int:
    """Run the property; write reports/fuzz.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--output", default="reports/fuzz.json")
    args = parser.parse_args()
    app = create_app({"CLOCK": "manual", "BACKGROUND": False, "MAX_CONTENT_LENGTH": 64 * 1024})
    statuses: collections.Counter[int] = collections.Counter()

    @settings(
        max_examples=args.requests,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(request=requests_)
    def fuzz(request: dict[str, Any]) -> None:
        statuses[check_answer(app, **request)] += 1

    started = time.perf_counter()
    fuzz()
    elapsed = time.perf_counter() - started
    total = sum(statuses.values())
    result = {
        "requests": total,
        "seconds": round(elapsed, 1),
        "per_second": round(total / elapsed),
        "server_errors": 0,
        "statuses": dict(sorted(statuses.items())),
    }
    print(
        f"{total} requests in {elapsed:.1f} s ({total / elapsed:.0f}/s): no 5xx, every body "
        f"JSON; statuses {result['statuses']}"
    )
    write_json(args.output, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
