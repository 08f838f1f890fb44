"""The parts of opsproof that run inside Locust processes (gevent-patched); never import these
from the pytest process."""
