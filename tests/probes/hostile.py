"""A hostile HTTP peer: every way a broken or malicious server can answer, one path each.

A real threaded socket server on 127.0.0.1 that writes its answers byte by byte, so it can
send what no HTTP library would (trickles, lies, floods, bombs). Paths (the first segment picks
the behaviour, so ``/huge/api/v1/targets`` is the huge body too):

- ``/ok`` a healthy JSON answer; ``/moved`` a redirect to it; ``/gzip-ok``, ``/deflate-raw-ok``
  the same answer compressed;
- ``/trickle-headers`` the head one byte per ``TRICKLE_S``; ``/trickle-body`` a full head, then
  the body one byte per ``TRICKLE_S``;
- ``/huge`` 2 GiB, chunked; ``/huge-declared`` 2 GiB with its Content-Length;
  ``/gzip-bomb`` 1 GiB of zeros in 1 MiB of gzip;
- ``/lying-length`` declares 100 bytes, sends 10 and stalls; ``/short-close`` the same, closing;
- ``/header-flood`` 10,000 header fields (9,999 of them ``a: 1``); ``/header-huge`` one 200 KiB
  header;
- ``/redirect-loop`` /redirect-loop → /redirect-loop/b → /redirect-loop; ``/redirect-chain``
  redirects without end; ``/redirect-elsewhere`` to another origin;
- ``/json-control`` invalid JSON full of control bytes; ``/json-deep`` a million nested arrays;
  ``/text-control`` a 503 whose text holds NUL, ESC, BEL and a bidi override.

:class:`SilentTls` accepts and never handshakes; :class:`TricklingTls` starts a TLS record and
sends it one byte per ``TRICKLE_S``.

Run it by hand: ``python tests/probes/hostile.py [PORT]``.
"""

import contextlib
import socket
import socketserver
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable
from functools import cache

TRICKLE_S = 0.2
"""Well inside any per-read timeout: a trickle at this pace never trips one."""
TRICKLE_FOR_S = 120.0
HUGE = 2 << 30
CONTROL_TEXT = b"\x00\x1b[2J\x1b[31mALERT\x07 \xe2\x80\xaeevil\r\nX-Injected: 1\x7f\x08"


@cache
def gzip_bomb() -> bytes:
    """A valid gzip stream of 1 GiB of zeros, about 1 MiB long.

    Built from one compressed 1 MiB block repeated (each block ends in a full flush, so every
    block after the first compresses to the same bytes) and a trailer with the true CRC and size:
    compressing the whole GiB would take 20 s.
    """
    zeros = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    last = deflate.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(1024):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", crc, (1 << 30) & 0xFFFFFFFF)
    return header + first + block * 1023 + last + trailer


class _Handler(socketserver.BaseRequestHandler):
    server: "_Server"

    def handle(self) -> None:
        self.request.settimeout(TRICKLE_FOR_S)
        path = self._request_path()
        if path is None:
            return
        segment = "/" + path.split("?")[0].strip("/").split("/")[0]
        routes: dict[str, Callable[[str], None]] = {
            "/ok": lambda _: self._answer(200, b'{"status": "ok"}', "application/json"),
            "/trickle-headers": self._trickle_headers,
            "/trickle-body": self._trickle_body,
            "/huge": self._huge,
            "/huge-declared": self._huge_declared,
            "/lying-length": self._lying_length,
            "/short-close": self._short_close,
            "/gzip-bomb": self._gzip_bomb,
            "/header-flood": self._header_flood,
            "/header-huge": self._header_huge,
            "/redirect-loop": self._redirect_loop,
            "/redirect-chain": self._redirect_chain,
            "/redirect-elsewhere": self._redirect_elsewhere,
            "/json-control": lambda _: self._answer(
                200, b'{"status": "' + CONTROL_TEXT + b'", ', "application/json"
            ),
            "/json-deep": lambda _: self._answer(200, b"[" * 1_000_000, "application/json"),
            "/moved": lambda _: self._redirect("/ok"),
            "/gzip-ok": lambda _: self._encoded(zlib.compressobj(6, zlib.DEFLATED, 31), "gzip"),
            "/deflate-raw-ok": lambda _: self._encoded(
                zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS), "deflate"
            ),
            "/text-control": lambda _: self._answer(503, CONTROL_TEXT * 3, "text/plain"),
        }
        route = routes.get(segment, lambda _: self._answer(404, b"no such path", "text/plain"))
        with contextlib.suppress(OSError):  # the client gave up: that is the point
            route(path)

    def _request_path(self) -> str | None:
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            try:
                data = self.request.recv(4096)
            except OSError:
                return None
            if not data:
                return None
            head += data
        parts = head.split(b"\r\n", 1)[0].split()
        return parts[1].decode("latin-1") if len(parts) >= 2 else None

    def _send(self, data: bytes) -> None:
        self.request.sendall(data)

    def _head(self, status: int, fields: list[tuple[str, str]]) -> bytes:
        lines = [f"HTTP/1.1 {status} Hostile"] + [f"{k}: {v}" for k, v in fields]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        fields = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        self._send(self._head(status, [*fields, ("Connection", "close")]) + body)

    def _trickle(self, data: bytes) -> None:
        until = time.monotonic() + TRICKLE_FOR_S
        for index in range(len(data)):
            if time.monotonic() > until or self.server.stopping.is_set():
                return
            self._send(data[index : index + 1])
            time.sleep(TRICKLE_S)

    def _trickle_headers(self, _: str) -> None:
        fields = [(f"X-Slow-{n}", "a" * 20) for n in range(1000)]
        self._trickle(self._head(200, fields))

    def _trickle_body(self, _: str) -> None:
        self._send(self._head(200, [("Content-Length", "100000"), ("Content-Type", "text/plain")]))
        self._trickle(b"x" * 100000)

    def _stream(self, total: int) -> None:
        block = b"A" * 65536
        sent = 0
        while sent < total and not self.server.stopping.is_set():
            self._send(block)
            sent += len(block)

    def _huge(self, _: str) -> None:
        self._send(self._head(200, [("Transfer-Encoding", "chunked")]))
        block = b"A" * 65536
        chunk = f"{len(block):x}\r\n".encode() + block + b"\r\n"
        for _ in range(HUGE // len(block)):
            if self.server.stopping.is_set():
                return
            self._send(chunk)
        self._send(b"0\r\n\r\n")

    def _huge_declared(self, _: str) -> None:
        self._send(self._head(200, [("Content-Length", str(HUGE))]))
        self._stream(HUGE)

    def _lying_length(self, _: str) -> None:
        self._send(self._head(200, [("Content-Length", "100")]) + b"0123456789")
        self.server.stopping.wait(TRICKLE_FOR_S)

    def _short_close(self, _: str) -> None:
        self._send(self._head(200, [("Content-Length", "100")]) + b"0123456789")

    def _encoded(self, coder: "zlib._Compress", coding: str) -> None:
        body = coder.compress(b'{"status": "ok"}') + coder.flush()
        fields = [("Content-Encoding", coding), ("Content-Length", str(len(body)))]
        self._send(self._head(200, [("Content-Type", "application/json"), *fields]) + body)

    def _gzip_bomb(self, _: str) -> None:
        body = gzip_bomb()
        fields = [
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
            ("Content-Length", str(len(body))),
        ]
        self._send(self._head(200, fields) + body)

    def _header_flood(self, _: str) -> None:
        self._send(self._head(200, [("a", "1")] * 9_999 + [("Content-Length", "0")]))

    def _header_huge(self, _: str) -> None:
        self._send(self._head(200, [("X-Huge", "h" * (200 << 10)), ("Content-Length", "0")]))

    def _redirect(self, location: str) -> None:
        fields = [("Location", location), ("Content-Length", "0")]
        self._send(self._head(302, fields))

    def _redirect_loop(self, path: str) -> None:
        self._redirect("/redirect-loop" if path.endswith("/b") else "/redirect-loop/b")

    def _redirect_chain(self, path: str) -> None:
        hop = int(path.rsplit("/", 1)[-1]) if path.rsplit("/", 1)[-1].isdigit() else 0
        self._redirect(f"/redirect-chain/{hop + 1}")

    def _redirect_elsewhere(self, _: str) -> None:
        self._redirect(f"http://127.0.0.2:{self.server.server_address[1]}/ok")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address: tuple[str, int]) -> None:
        self.stopping = threading.Event()
        super().__init__(address, _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hang up on purpose here."""


class HostileServer:
    """The hostile HTTP peer on a free 127.0.0.1 port, serving in a thread until stopped."""

    def __init__(self, port: int = 0) -> None:
        gzip_bomb()  # built before the first request, so no probe waits for it
        self.server = _Server(("127.0.0.1", port))
        self.port: int = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.server.stopping.set()
        self.server.shutdown()
        self.server.server_close()


class _Listener:
    """Accepts TCP connections and hands each to ``serve`` in a thread of its own."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.stopping = threading.Event()
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            threading.Thread(target=self._serve_quietly, args=(conn,), daemon=True).start()

    def _serve_quietly(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            self.serve(conn)

    def serve(self, conn: socket.socket) -> None:
        """Hold the connection and say nothing."""
        self.stopping.wait(TRICKLE_FOR_S)

    def stop(self) -> None:
        self.stopping.set()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.sock.close()
        for conn in self.held:
            conn.close()


class SilentTls(_Listener):
    """A TLS port that accepts the connection and never answers the ClientHello."""


class TricklingTls(_Listener):
    """A TLS port that begins a 16 KiB handshake record and sends it a byte at a time."""

    def serve(self, conn: socket.socket) -> None:
        conn.recv(4096)
        conn.sendall(b"\x16\x03\x03\x3f\xf0")
        until = time.monotonic() + TRICKLE_FOR_S
        while time.monotonic() < until and not self.stopping.is_set():
            conn.sendall(b"\x02")
            time.sleep(TRICKLE_S)


if __name__ == "__main__":
    server = HostileServer(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    silent, trickling = SilentTls(), TricklingTls()
    print(f"hostile HTTP on {server.url}", flush=True)
    print(f"silent TLS on {silent.url}, trickling TLS on {trickling.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
