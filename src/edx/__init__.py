"""Open edX tracking logs: map a tracking-log line (or an event-tracking event) to a
stored edX event, import log files, and the course team's reports.

Everything edX-specific lives here, so the rest of Footfall only wires it in: the live
kind `footfall.events.edx` calls `mapping`, the flusher calls `privacy`, the CLI calls
`importer` and `reports`.
"""
