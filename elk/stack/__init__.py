"""The local stack: Elasticsearch, Jaeger and the log collector as native processes on loopback.

`amf1 stack up|down|status|logs` (elk.stack.cli) drives `StackControl` (elk.stack.control); the
artifacts are fetched or built once into a cache keyed by the versions in `elk.versions`.
"""
