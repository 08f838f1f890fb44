"""Request durations on the wire: what counts as one exchange, and that the end is when the
answer reached the socket (the kernel's stamp), not when the client got round to reading it."""

import socket
import ssl
import threading
import time
from collections.abc import Iterator

import pytest

from opsproof.load.locust import wire_timing
from opsproof.load.locust.wire_timing import TimedSocket, WireExchange, WireTimes

READ_LATE_S = 0.3
STAMPS_ON_WITHIN_S = 5.0


def test_an_exchange_runs_from_the_first_write_to_the_last_read_in_k6s_phases() -> None:
    exchange = WireExchange()
    assert exchange.times() is None
    exchange.sending(10.0)
    exchange.wrote(10.5, 100)
    exchange.sending(10.5)  # the body after the headers: the same request
    exchange.wrote(11.0, 20)
    assert exchange.times() is None  # nothing read yet
    exchange.arrived(13.0)
    exchange.arrived(13.5)
    assert exchange.times() == WireTimes(
        duration=3.5, sending=1.0, waiting=2.0, receiving=0.5, bytes_sent=120
    )


def test_a_redirected_request_sums_its_hops_without_the_time_between_them() -> None:
    exchange = WireExchange()
    exchange.sending(0.0)
    exchange.wrote(0.0, 50)
    exchange.arrived(1.0)
    exchange.sending(5.0)  # the client followed the redirect 4 s later
    exchange.wrote(5.5, 50)
    exchange.arrived(7.0)
    times = exchange.times()
    assert times is not None
    assert (times.duration, times.sending, times.waiting, times.bytes_sent) == (3.0, 0.5, 2.5, 100)


def test_an_answer_that_begins_before_the_request_is_written_has_no_waiting() -> None:
    exchange = WireExchange()
    exchange.sending(0.0)
    exchange.arrived(1.0)  # e.g. 413 while the body is still being sent
    exchange.wrote(2.0, 10)
    exchange.arrived(3.0)
    times = exchange.times()
    assert times is not None
    assert (times.duration, times.sending, times.waiting, times.receiving) == (3.0, 2.0, 0.0, 1.0)


def test_a_clock_step_backwards_yields_no_figure() -> None:
    exchange = WireExchange(sent=5.0, received=4.0)
    assert exchange.times() is None


@pytest.fixture
def connected() -> Iterator[tuple[socket.socket, socket.socket]]:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname(), timeout=5)
        server, _ = listener.accept()
        with client, server:
            server.settimeout(5)
            yield client, server


def exchange(timed: TimedSocket, server: socket.socket, read_late_s: float) -> WireTimes | None:
    """One request and answer, the answer read ``read_late_s`` after it was sent."""
    wire_timing.begin()
    timed.sendall(b"ping")
    assert server.recv(4) == b"ping"
    server.sendall(b"pong")
    time.sleep(read_late_s)
    assert timed.recv(4) == b"pong"
    return wire_timing.take()


def until_stamped(timed: TimedSocket, server: socket.socket) -> None:
    """The kernel turns arrival stamps on for the whole system in deferred work, a moment after
    the first socket asks: an answer that arrives before then is timed at its read."""
    deadline = time.monotonic() + STAMPS_ON_WITHIN_S
    while time.monotonic() < deadline:
        times = exchange(timed, server, read_late_s=0.05)
        if times is not None and times.duration < 0.025:
            return


def test_the_end_is_the_kernels_arrival_stamp_not_the_late_read(
    connected: tuple[socket.socket, socket.socket],
) -> None:
    client, server = connected
    timed = TimedSocket(client)
    assert timed.kernel_stamped
    until_stamped(timed, server)
    began = time.time()
    times = exchange(timed, server, READ_LATE_S)  # a busy client reads late
    assert times is not None and times.duration < READ_LATE_S / 2, times
    assert times.bytes_sent == 4
    assert wire_timing.take() is None  # read once
    assert time.time() - began >= READ_LATE_S  # the answer was there long before


def test_a_request_larger_than_the_send_buffer_is_written_whole_and_counted(
    connected: tuple[socket.socket, socket.socket],
) -> None:
    """One ``send`` writes what the buffer holds; the rest must follow, in order."""
    client, server = connected
    client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    timed = TimedSocket(client)
    body = bytes(range(256)) * 4096
    received = bytearray()

    def read_all() -> None:
        while len(received) < len(body) and (chunk := server.recv(65536)):
            received.extend(chunk)
        server.sendall(b"done")

    reader = threading.Thread(target=read_all)
    reader.start()
    wire_timing.begin()
    timed.sendall(body)
    reader.join(timeout=10)
    assert len(received) == len(body) and bytes(received) == body
    assert timed.recv(4) == b"done"
    times = wire_timing.take()
    assert times is not None and times.bytes_sent == len(body)


def test_without_a_current_request_the_socket_only_passes_data_through(
    connected: tuple[socket.socket, socket.socket],
) -> None:
    client, server = connected
    timed = TimedSocket(client)
    timed.sendall(b"x")
    assert server.recv(1) == b"x"
    server.sendall(b"y")
    assert timed.recv(1) == b"y"
    assert wire_timing.take() is None
    assert timed.getsockname() == client.getsockname()  # everything else is the socket's


def test_tls_connections_fall_back_to_the_reads_return() -> None:
    with socket.socket() as raw:
        tls = ssl.create_default_context().wrap_socket(
            raw, server_hostname="localhost", do_handshake_on_connect=False
        )
        with tls:
            assert not TimedSocket(tls).kernel_stamped
