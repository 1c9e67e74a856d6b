"""`shortapi-mock` on the command line: the CLI and the gunicorn application with its redacting
access log.
"""
