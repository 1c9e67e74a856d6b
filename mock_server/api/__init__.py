"""The HTTP face: the real API's routes, result files, the error envelope, auth, the journal hook,
the admin API and the dashboard. Routes stay thin: they call jobs/, control/ and validation/.
"""
