"""The contract kit: what the contract suite (``contract_tests/``) and a client check run on.

- `strategies`: hypothesis strategies from the schemas (valid requests, labelled breaks)
- `wire` (requests, responses, exchanges, key scrubbing) <- `targets` (in-process, URL,
  live) <- `recording` (recorder, replay target); `budget`; `plan` (what a paid target gets)
- `client` (retries, polling, jobs) <- `session` (one run) -> `drift` -> `report`
- `profiles` (the suite's hypothesis profiles), `clientcheck` (a user's client through the
  response variants), `runner` (``shortapi-mock contract``: the shipped suite under pytest)

The suite itself (its properties, the state machine, the tests) stays in ``contract_tests/``
and is shipped as package data; nothing here imports it.
"""
