"""The alerting watcher: alert rules, their evaluation, the alert state and delivery to Slack."""
