"""The contract suite of the shortapi.ai job API (kwaivgi/kling-o1/image-to-video).

The same hypothesis-driven properties run against the in-process mock (the default, part
of ``make test``), any URL and the live API, and a drift report lists every point where a
target and the mock disagree, tied to the ids of ``schemas/assumptions.json``. See
``contract_tests/README.md`` for how to run each target.
"""
