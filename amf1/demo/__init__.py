"""`amf1 demo`: the one-command tour of the product (stack, service, watcher, failure scenarios)."""
