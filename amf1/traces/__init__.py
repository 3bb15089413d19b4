"""`amf1 traces` and `amf1 trace ID`: find slow and failed predictions in Jaeger's query API, and
read one trace as a span waterfall with its log events from Elasticsearch in between."""
