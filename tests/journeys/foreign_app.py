"""A small conversion service opsproof did not start and knows nothing of: stdlib http.server.

Its shape is not the reference service's: a login form answers ``token=…`` as text, uploads
are a raw binary body behind a bearer token, the job id sits deep in JSON
(``data.jobs[0].ticket``), states are upper-case, the result's URL (with a query) comes from
the status answer, and the result is a ZIP of the upload.
"""

import io
import json
import secrets
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PASSWORD = "correct horse battery"
WORK_S = 0.3


class _State:
    def __init__(self) -> None:
        self.tokens: set[str] = set()
        self.jobs: dict[str, tuple[float, bytes]] = {}


class _Handler(BaseHTTPRequestHandler):
    state: _State

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, value: object) -> None:
        self._send(status, json.dumps(value).encode(), "application/json")

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def _authorized(self) -> bool:
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if token in self.state.tokens:
            return True
        self._json(401, {"error": "unauthorized"})
        return False

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if path == "/v1/login":
            form = parse_qs(self._body().decode())
            if form.get("password") != [PASSWORD]:
                self._send(403, b"denied", "text/plain")
                return
            token = secrets.token_hex(16)
            self.state.tokens.add(token)
            self._send(200, f"ok\ntoken={token}\n".encode(), "text/plain")
        elif path == "/v1/convert" and self._authorized():
            ticket = "T-" + secrets.token_hex(4)
            self.state.jobs[ticket] = (time.monotonic(), self._body())
            links = {"self": f"/v1/jobs/{ticket}"}
            self._json(201, {"data": {"jobs": [{"ticket": ticket, "links": links}]}})

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/healthz":
            self._json(200, {"ok": True})
            return
        if parts.path == "/go":
            self.send_response(302)
            self.send_header("Location", "/healthz")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if not self._authorized():
            return
        if parts.path.startswith("/v1/jobs/"):
            ticket = parts.path.removeprefix("/v1/jobs/")
            if ticket not in self.state.jobs:
                self._json(404, {"error": "no such job"})
                return
            started, upload = self.state.jobs[ticket]
            if not upload:
                self._json(200, {"state": "FAILED", "reason": "empty upload"})
            elif time.monotonic() - started < WORK_S:
                self._json(200, {"state": "RUNNING"})
            else:
                link = f"/v1/files/{ticket}.zip?sig={ticket[::-1]}"
                self._json(200, {"state": "SUCCEEDED", "download": link})
        elif parts.path.startswith("/v1/files/"):
            ticket = parts.path.removeprefix("/v1/files/").removesuffix(".zip")
            if parse_qs(parts.query).get("sig") != [ticket[::-1]]:
                self._json(403, {"error": "bad signature"})
                return
            archive = io.BytesIO()
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
                zipped.writestr("upload.bin", self.state.jobs[ticket][1])
            self._send(200, archive.getvalue(), "application/zip")
        else:
            self._json(404, {"error": "not found"})


@contextmanager
def foreign_app() -> Iterator[str]:
    """The app on a free 127.0.0.1 port for the block; yields its base URL."""
    handler = type("Handler", (_Handler,), {"state": _State()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
