"""A TCP proxy that delays what the client sends, for the latency fault.

Hand-written because this kernel has no netem qdisc and Toxiproxy is not packaged for Debian;
nftables redirects only the faulted service's connections here. It exits by itself at its
deadline, so a run that dies cannot leave it delaying traffic.

    python -m opsproof.faults.proxy --upstream 127.0.0.1:6379 --delay 0.2 --until EPOCH
"""

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import Awaitable, Callable

CONNECT_TIMEOUT = 2.0
CHUNK = 65536


async def _delayed(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
) -> None:
    """Forward in order, each chunk ``delay`` seconds after it arrived."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def send() -> None:
        while True:
            due, data = await queue.get()
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if not data:
                writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(send())
    while data := await reader.read(CHUNK):
        queue.put_nowait((time.monotonic() + delay, data))
    queue.put_nowait((time.monotonic() + delay, b""))
    await sender


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(CHUNK):
        writer.write(data)
        await writer.drain()
    writer.write_eof()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _handler(host: str, port: int, delay: float) -> Handler:
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.wait_for(
                asyncio.open_connection(host, port), CONNECT_TIMEOUT
            )
        except (OSError, TimeoutError):
            client_w.close()
            return
        with contextlib.suppress(OSError):
            await asyncio.gather(_delayed(client_r, up_w, delay), _pipe(up_r, client_w))
        for writer in (client_w, up_w):
            writer.close()

    return handle


async def serve(host: str, port: int, delay: float, until: float) -> None:
    server = await asyncio.start_server(_handler(host, port, delay), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await asyncio.sleep(max(0.0, until - time.time()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the dependency")
    parser.add_argument("--delay", type=float, required=True, help="seconds added to requests")
    parser.add_argument("--until", type=float, required=True, help="epoch seconds to exit at")
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    asyncio.run(serve(host.strip("[]"), int(port), args.delay, args.until))
    sys.exit(0)


if __name__ == "__main__":
    main()
