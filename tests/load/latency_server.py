"""A small HTTP server with a known latency, on loopback, for load tests and benchmarks.

``GET /sleep/<ms>`` answers after ``ms`` milliseconds; ``GET /dist/<any>`` after a latency
drawn from a fixed log-normal distribution, timed server-side; ``GET /truth`` returns those
server-side times (ms, JSON), the truth to compare a generator's percentiles with;
``GET /status/<code>`` answers with that status; ``GET /id`` with a new ``{"id": N}``,
``GET /echo/<text>`` with the text; ``GET /slowed/<text>`` too, after the delay the last
``GET /delay/<ms>`` set (a fault injected into one endpoint, for baseline comparisons).
Keep-alive HTTP/1.1 on one asyncio loop, so no thread contends for the GIL and the server
adds little beyond the latency it is asked for.

Run as a script it prints its URL and serves until its standard input closes, so the process
that started it is never left with an orphan.
"""

import asyncio
import json
import math
import random
import sys

HEAD_LIMIT = 16384
REASONS = {200: "OK", 404: "Not Found", 500: "Internal Server Error"}


class LatencyServer:
    def __init__(self) -> None:
        self.served: list[float] = []
        """Server-side time of every /dist request, in ms: request read to response written."""
        self.random = random.Random(7)
        self.issued = 0
        self.slowed_ms = 0.0

    def draw_ms(self) -> float:
        """Log-normal with median 40 ms: p95 ≈ 85 ms, p99 ≈ 118 ms; floored at 10 ms."""
        return max(10.0, 40.0 * math.exp(0.46 * self.random.gauss(0.0, 1.0)))

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                began = loop.time()
                path = head.split(b" ", 2)[1].decode()
                _, kind, argument = [*path.split("/", 2), "", ""][:3]
                status, body = 200, b"ok\n"
                if kind == "truth":
                    body = json.dumps(self.served).encode()
                elif kind == "sleep":
                    await asyncio.sleep(float(argument) / 1000)
                elif kind == "dist":
                    await asyncio.sleep(self.draw_ms() / 1000)
                elif kind == "status":
                    status = int(argument)
                elif kind == "id":
                    self.issued += 1
                    body = json.dumps({"id": f"n{self.issued}"}).encode()
                elif kind == "echo":
                    body = argument.encode()
                elif kind == "delay":
                    self.slowed_ms = float(argument)
                elif kind == "slowed":
                    await asyncio.sleep(self.slowed_ms / 1000)
                    body = argument.encode()
                writer.write(
                    f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\n"
                    f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
                if kind == "dist":
                    self.served.append((loop.time() - began) * 1000)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()


async def serve() -> None:
    server = LatencyServer()
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, limit=HEAD_LIMIT)
    port = listener.sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{port}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes the pipe
    listener.close()


if __name__ == "__main__":
    asyncio.run(serve())
