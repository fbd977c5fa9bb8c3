"""The embedded local runtime: DynamoDB Local, the Function URL server, emulators, bus, scheduler.

Nothing outside this package imports it; the services only see settings pointing at it.
"""
