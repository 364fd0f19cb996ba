"""The dashboard: static HTML, CSS and JavaScript in ``static/``, a client of the REST API.

Nothing here runs in Python: ``headrace.api.dashboard`` serves these files, and the
pages call the same REST routes, with the same tokens, as any other client.
"""
