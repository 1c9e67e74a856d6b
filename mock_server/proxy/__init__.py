"""The validating, recording proxy in front of the live API (`shortapi-mock proxy`)."""
