"""Create throughput in-process with 1 model loaded and with 60 (the 56 shipped plus 4 user
models): the registry is a dict and each model's validators are compiled once, so the two
must match. Also the rate of creates that go round every shipped model's own example.

    python bench/catalog.py [--requests N] [--output reports/catalog.json]

Each figure is the best of `--rounds` runs of N creates through the Flask test client (memory
store, manual clock, no callback thread), after a warm-up that compiles the validators.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # see bench/__init__.py
from bench.common import CREATE_PATH, auth, job_body, write_json
from mock_server import close_app, create_app
from mock_server.catalog import registry
from mock_server.data import schemas

EXTRA = 4  # user models added to the 56 shipped: 60 in all


def _rate(bodies: Sequence[dict[str, Any]], requests: int, rounds: int) -> float:
    """Return the best creates per second over `rounds` runs of `requests` creates."""
    app = create_app({"CLOCK": "manual", "BACKGROUND": False})
    client, headers = app.test_client(), auth()
    try:
        for body in bodies:  # warm-up: every model's validators compiled once
            assert client.post(CREATE_PATH, json=body, headers=headers).status_code == 200
        best = 0.0
        for _ in range(rounds):
            start = time.perf_counter()
            for n in range(requests):
                answer = client.post(CREATE_PATH, json=bodies[n % len(bodies)], headers=headers)
                assert answer.status_code == 200, answer.get_data(as_text=True)
            best = max(best, requests / (time.perf_counter() - start))
        return best
    finally:
        close_app(app)


def _catalogue(size: int) -> None:
    """Leave `size` models in the registry: kling-o1 alone, or the shipped ones plus copies."""
    kling = registry.KLING_O1_I2V
    registry.unload_user_models()
    if size == 1:
        registry.MODELS.clear()
        registry.MODELS[kling.id] = kling
    for n in range(max(0, size - len(registry.SHIPPED))):
        copy_id = f"bench/copy-{n}/image-to-video"
        registry.MODELS[copy_id] = dataclasses.replace(kling, id=copy_id)


def examples() -> list[dict[str, Any]]:
    """Return one create body per shipped model: its file's first example."""
    return [
        {"model": spec.id, "args": copy.deepcopy(schemas.load(spec.args_schema)["examples"][0])}
        for spec in sorted(registry.SHIPPED.values(), key=lambda s: s.id)
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Print create req/s with 1 and 60 models and their ratio; write them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", default="reports/catalog.json")
    args = parser.parse_args(argv)
    kling = [job_body()]
    _catalogue(1)
    one = _rate(kling, args.requests, args.rounds)
    _catalogue(len(registry.SHIPPED) + EXTRA)
    sixty = _rate(kling, args.requests, args.rounds)
    size = len(registry.MODELS)
    mixed = _rate(examples(), args.requests, args.rounds)
    registry.unload_user_models()
    print(f"create, kling-o1, 1 model loaded:       {one:8.0f} req/s")
    print(
        f"create, kling-o1, {size} models loaded:     {sixty:8.0f} req/s  (ratio {sixty / one:.2f})"
    )
    print(f"create, each shipped model's example:   {mixed:8.0f} req/s")
    write_json(
        args.output,
        {
            "requests": args.requests,
            "rounds": args.rounds,
            "create_rps_1_model": round(one),
            "create_rps_60_models": round(sixty),
            "models_loaded": size,
            "ratio": round(sixty / one, 3),
            "create_rps_every_model": round(mixed),
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
