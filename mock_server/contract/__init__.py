"""The contract kit: hypothesis strategies from the schemas, targets (in-process, URL, live, replay), the client, budget, plan, drift report and the client check; run by `shortapi-mock contract`."""
