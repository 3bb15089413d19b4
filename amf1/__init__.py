"""The `amf1` command line and the operator tools: demo, load generator, health and report."""
