"""`amf1 report`: the monitoring guide's monthly report, as Markdown with PNG charts."""
