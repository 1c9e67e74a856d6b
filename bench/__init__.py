"""The benchmarks behind ``make bench`` and ``make fuzz``.

Each module with a ``main`` is run as a script from the repository root
(``python bench/run.py``); it puts the root on ``sys.path`` first, so the scripts import one
another as ``bench.<module>``, the same names mypy checks them under.
"""
