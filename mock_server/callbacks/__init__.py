"""Callbacks: which URLs may be called (policy), what is sent when (planner), how an attempt is
sent, where a callback is retried (dispatcher).
"""
