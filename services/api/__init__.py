"""The REST API of the dashboard function (routes, errors, dependencies)."""
