"""Elasticsearch and the log pipeline: pipeline rules and configs, index template, stack tools."""
