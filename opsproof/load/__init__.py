"""k6-equivalent load profiles run by Locust.

The pytest process never imports Locust or gevent: profiles, thresholds, schedules, statistics
and verdicts are plain Python here, and everything that runs inside Locust lives in
``opsproof.load.locust``, imported only by the Locust subprocesses.
"""
