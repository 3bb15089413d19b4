"""Elasticsearch security of the stack: roles, the native stack's users and their credentials."""
