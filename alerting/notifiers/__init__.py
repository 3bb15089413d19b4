"""One notifier per kind of channel, each a plug-in on `base.Notifier`: Slack, PagerDuty, email."""
