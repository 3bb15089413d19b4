"""The settings of every package, for people: docs/settings.md and `amf1 settings`."""
