"""Monitoring and alerting verification: does the monitoring see the failure?

``static`` and ``coverage`` check a team's Prometheus files (promtool, amtool, a down-alert for
every service), ``targets`` turns them into gate items, ``receiver`` is the webhook the run owns,
and ``detection`` awaits the alerts a chaos experiment declares and times them.
"""
