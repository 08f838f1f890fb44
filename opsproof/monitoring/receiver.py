"""The webhook the run owns: Alertmanager's notifications, received for real and timed.

A standard-library HTTP server in a thread is enough for a handful of JSON POSTs a second and
adds no dependency; it listens only while an experiment that awaits alerts runs.
"""

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from opsproof.errors import ReceiverError
from opsproof.probes.monitoring_api import dicts, labels_of

MAX_BODY = 4 << 20
REQUEST_TIMEOUT = 5.0
STOP_TIMEOUT = 5.0


@dataclass(frozen=True)
class NotifiedAlert:
    """One alert of a notification, as Alertmanager's webhook payload (version 4) has it."""

    status: str
    """``firing`` or ``resolved``."""
    labels: dict[str, str]
    starts_at: datetime | None


@dataclass(frozen=True)
class Notification:
    received: float
    """``time.monotonic()`` when it arrived."""
    receiver: str
    alerts: list[NotifiedAlert]


def _when(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def parse(payload: object, received: float) -> Notification:
    """A notification from a webhook body; unknown shapes give an empty one."""
    body = payload if isinstance(payload, dict) else {}
    alerts = [
        NotifiedAlert(str(a.get("status")), labels_of(a), _when(a.get("startsAt")))
        for a in dicts(body.get("alerts"))
    ]
    return Notification(received, str(body.get("receiver", "")), alerts)


class WebhookReceiver:
    """``with WebhookReceiver("127.0.0.1:9099") as hook:`` listens until the block ends;
    ``hook.notifications()`` is what arrived so far, in order."""

    def __init__(self, listen: str) -> None:
        host, _, port = listen.rpartition(":")
        self.address = (host, int(port))
        self._received: list[Notification] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.address[0]}:{self.address[1]}"

    def notifications(self) -> list[Notification]:
        with self._lock:
            return list(self._received)

    def _record(self, notification: Notification) -> None:
        with self._lock:
            self._received.append(notification)

    def __enter__(self) -> "WebhookReceiver":
        record = self._record

        class Handler(BaseHTTPRequestHandler):
            timeout = REQUEST_TIMEOUT  # a stalled client cannot hold a thread forever

            def do_POST(self) -> None:
                received = time.monotonic()
                try:
                    length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
                    payload = json.loads(self.rfile.read(length) or b"null")
                except ValueError:
                    self.send_error(400, "expected Alertmanager's JSON payload")
                    return
                record(parse(payload, received))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the notifications are the record."""

        try:
            self._server = ThreadingHTTPServer(self.address, Handler)
        except OSError as exc:
            raise ReceiverError(
                f"the alert webhook cannot listen on {self.url}: {exc.strerror}; another run "
                "may be using it (monitoring.webhook.listen)"
            ) from exc
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
