"""What installing the kit costs a client's test run: one trivial test, run by pytest in a fresh
venv holding pytest alone and in one holding pytest and the kit (its pytest plugin and every
plugin its dependencies register), median of `--runs` runs each, alternating.

    python bench/plugin_overhead.py [--runs 3] [--venvs DIR] [--output reports/plugin.json]

    python bench/plugin_overhead.py --rewrite-cache [...]

The kit is installed from this checkout (``pip install .``, non-editable, as a user gets it).
`--venvs DIR` keeps the two venvs there and reuses them (reinstalling the kit, not its
dependencies: one the kit no longer needs stays installed, with its plugin, so after a change
of dependencies give a new DIR). Besides the wall time of the run it prints the CPU time (user
+ system, of the child), steadier on a busy machine, and each plugin module's import time in
the kit's venv (``python -X importtime``), so what costs what is plain.

pytest rewrites the asserts of every module of a distribution that registers a plugin (the
kit's, anyio's...) as it imports them, and caches the result beside the module's bytecode,
unless bytecode is not written (``PYTHONDONTWRITEBYTECODE``, set in many CI images). By default
the runs get ``PYTHONDONTWRITEBYTECODE=1`` and no such cache (removed first): every run pays
for the rewriting, the worst case. `--rewrite-cache` lets the warm-up write the cache and the
runs use it, as on a developer's machine. Either way the figures do not depend on what earlier
runs left in the venvs.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # see bench/__init__.py
from bench.common import write_json

ROOT = Path(__file__).resolve().parent.parent
TEST = "def test_one():\n    assert 1 + 1 == 2\n"
LIMIT = 0.5  # seconds: what the kit may add to a one-test run (issue "A newcomer's first hour")


def python_of(venv: Path) -> Path:
    """Return the interpreter of `venv`."""
    return venv / "bin" / "python"


def make_venvs(where: Path) -> tuple[Path, Path]:
    """Create (or reuse) the venvs "alone" (pytest) and "kit" (pytest + the kit)."""
    alone, kit = where / "alone", where / "kit"
    for venv in (alone, kit):
        if not python_of(venv).exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = ["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([python_of(alone), *pip, "pytest"], check=True)
    subprocess.run([python_of(kit), *pip, "pytest", str(ROOT)], check=True)
    # The checkout as it is now, without touching the dependencies installed above.
    subprocess.run([python_of(kit), *pip, "--no-deps", "--force-reinstall", str(ROOT)], check=True)
    return alone, kit


def run_env(rewrite_cache: bool) -> dict[str, str]:
    """Return the environment of the pytest runs: bytecode written or not (see the docstring)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env if rewrite_cache else {**env, "PYTHONDONTWRITEBYTECODE": "1"}


def forget_rewrites(where: Path) -> int:
    """Remove the modules pytest rewrote and cached under `where`; return how many."""
    cached = list(where.rglob("__pycache__/*-pytest-*.pyc"))
    for path in cached:
        path.unlink()
    return len(cached)


def one_run(python: Path, folder: Path, env: dict[str, str]) -> tuple[float, float]:
    """Run the one-test file with pytest once; return (wall, CPU) seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_one.py"],
        cwd=folder,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def plugin_imports(python: Path) -> dict[str, float]:
    """Return each pytest11 plugin module's cumulative import time (s) in `python`'s venv."""
    code = (
        "import importlib.metadata as m; "
        "print('\\n'.join(e.value for e in m.entry_points(group='pytest11')))"
    )
    modules = subprocess.run(
        [python, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    times: dict[str, float] = {}
    for module in ["pytest", *modules]:
        result = subprocess.run(
            [python, "-X", "importtime", "-c", f"import pytest, {module}"],
            check=True,
            capture_output=True,
            text=True,
        )
        rows = [line.split("|") for line in result.stderr.splitlines() if "|" in line]
        times[module] = int(rows[-1][1]) / 1e6 if rows[-1][2].strip() == module else 0.0
    return times


def measure(runs: int, where: Path, *, rewrite_cache: bool) -> dict[str, Any]:
    """Return the figures: medians of each venv and the difference."""
    alone, kit = make_venvs(where)
    folder = where / "project"
    folder.mkdir(exist_ok=True)
    (folder / "test_one.py").write_text(TEST)
    forget_rewrites(where)
    env = run_env(rewrite_cache)
    samples: dict[str, list[tuple[float, float]]] = {"alone": [], "kit": []}
    for venv in (alone, kit):  # a warm-up each: files cached (and rewrites, if written)
        one_run(python_of(venv), folder, env)
    for _ in range(runs):
        samples["alone"].append(one_run(python_of(alone), folder, env))
        samples["kit"].append(one_run(python_of(kit), folder, env))
    figures: dict[str, Any] = {"runs": runs, "rewrite_cache": rewrite_cache}
    for name, values in samples.items():
        figures[name] = {
            "wall_s": [round(w, 3) for w, _ in values],
            "median_wall_s": round(statistics.median(w for w, _ in values), 3),
            "median_cpu_s": round(statistics.median(c for _, c in values), 3),
        }
    for kind in ("wall", "cpu"):
        key = f"median_{kind}_s"
        figures[f"added_{kind}_s"] = round(figures["kit"][key] - figures["alone"][key], 3)
    figures["plugin_imports_s"] = {
        k: round(v, 3) for k, v in plugin_imports(python_of(kit)).items()
    }
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--venvs", type=Path, help="keep (and reuse) the two venvs here")
    parser.add_argument(
        "--rewrite-cache",
        action="store_true",
        help="let pytest cache its rewritten modules (default: rewrite on every run)",
    )
    parser.add_argument("--output", default="reports/plugin_overhead.json")
    args = parser.parse_args()
    if importlib.util.find_spec("venv") is None:  # pragma: no cover - Debian without python3-venv
        print("plugin_overhead: the venv module is missing (apt-get install python3-venv)")
        return 2
    if args.venvs:
        args.venvs.mkdir(parents=True, exist_ok=True)
        figures = measure(args.runs, args.venvs, rewrite_cache=args.rewrite_cache)
    else:
        with tempfile.TemporaryDirectory(prefix="plugin-overhead-") as temp:
            figures = measure(args.runs, Path(temp), rewrite_cache=args.rewrite_cache)
    alone, kit = figures["alone"], figures["kit"]
    cache = "rewrites cached" if args.rewrite_cache else "no bytecode written, rewrites not cached"
    print(f"one-test pytest run, median of {args.runs} ({cache}; wall / CPU seconds):")
    print(f"  pytest alone      {alone['median_wall_s']:.3f} / {alone['median_cpu_s']:.3f}")
    print(f"  pytest + the kit  {kit['median_wall_s']:.3f} / {kit['median_cpu_s']:.3f}")
    print(
        f"  added by the kit  {figures['added_wall_s']:+.3f} / {figures['added_cpu_s']:+.3f}"
        f"  (limit {LIMIT} s wall; ratio {kit['median_wall_s'] / alone['median_wall_s']:.2f}x)"
    )
    print("import time of each pytest plugin module in the kit's venv (s, pytest included):")
    for module, seconds in figures["plugin_imports_s"].items():
        print(f"  {module:32} {seconds:.3f}")
    write_json(args.output, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
