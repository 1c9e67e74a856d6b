"""The model catalogue: what the mock knows of each model (registry) and what a job costs
(pricing). No Flask here.
"""
