"""Jobs: statuses and stages, the lifecycle (where status changes are decided), settling, scenarios
(where a job's fate is chosen) and accounts (admission, charge, refund).
"""
