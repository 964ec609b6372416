"""The suite's network guard (tests/conftest.py): loopback only, enforced by mechanism.

192.0.2.0/24 is TEST-NET-1 (RFC 5737): never routed, so a connection there that got past
the guard would hang until its timeout rather than fail fast. Each blocked attempt below
is cleared from `network_guard.blocked`, or the test would fail in its teardown.
"""

from __future__ import annotations

import http.server
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import NetworkBlocked, NetworkGuard, is_loopback
from gitreg.errors import GitHubError
from gitreg.store.github import GitHubClient

BLOCKED = "192.0.2.1"


def _refused_fast(network_guard: NetworkGuard, attempt: Callable[[], object], where: str) -> str:
    """Run `attempt`; it must raise NetworkBlocked at once, naming `where`. The message."""
    start = time.monotonic()
    with pytest.raises(NetworkBlocked) as excinfo:
        attempt()
    assert time.monotonic() - start < 1.0  # refused, not timed out
    assert network_guard.blocked == [where]
    network_guard.blocked.clear()
    message = str(excinfo.value)
    assert where in message and "loopback" in message
    return message


def test_connect_to_a_public_address_is_refused(network_guard: NetworkGuard) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(30)
        message = _refused_fast(network_guard, lambda: sock.connect((BLOCKED, 80)), f"{BLOCKED}:80")
    assert "socket.connect" in message


def test_connect_ex_is_refused_too(network_guard: NetworkGuard) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(30)
        message = _refused_fast(
            network_guard, lambda: sock.connect_ex((BLOCKED, 443)), f"{BLOCKED}:443"
        )
    assert "socket.connect_ex" in message


def test_create_connection_is_refused_before_any_lookup(network_guard: NetworkGuard) -> None:
    # a name: refused as given, without asking DNS what it is
    message = _refused_fast(
        network_guard,
        lambda: socket.create_connection(("api.github.com", 443), timeout=30),
        "api.github.com:443",
    )
    assert "socket.create_connection" in message
    _refused_fast(
        network_guard,
        lambda: socket.create_connection((BLOCKED, 80), timeout=30),
        f"{BLOCKED}:80",
    )


def test_ipv6_destinations_are_refused(network_guard: NetworkGuard) -> None:
    if not socket.has_ipv6:
        pytest.skip("this Python has no IPv6 support")
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError as e:
        pytest.skip(f"no IPv6 sockets on this machine: {e}")
    with sock:
        _refused_fast(
            network_guard, lambda: sock.connect(("2001:db8::1", 80, 0, 0)), "[2001:db8::1]:80"
        )


def test_urllib_and_gitreg_cannot_swallow_it(network_guard: NetworkGuard) -> None:
    """urllib turns OSError into URLError and gitreg turns that into GitHubError: the guard's
    exception is neither, so the test still fails where the connection was tried."""
    _refused_fast(
        network_guard,
        lambda: urllib.request.urlopen(f"http://{BLOCKED}/", timeout=30),
        f"{BLOCKED}:80",
    )
    client = GitHubClient("octo-org/models", "t0ken", f"http://{BLOCKED}:8080", timeout=30)
    with pytest.raises(NetworkBlocked):
        try:
            client.get_pull(1)
        except (GitHubError, OSError, urllib.error.URLError):  # pragma: no cover
            pytest.fail("the guard's exception was turned into an ordinary error")
    assert network_guard.blocked == [f"{BLOCKED}:8080"]
    network_guard.blocked.clear()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        (b"127.0.0.1", True),
        ("192.0.2.1", False),
        ("10.0.0.1", False),
        ("0.0.0.0", False),
        ("::", False),
        ("::ffff:192.0.2.1", False),
        ("2001:db8::1", False),
        ("localhost.example.com", False),
        ("github.com", False),
        ("", False),
        (None, False),
    ],
)
def test_what_counts_as_loopback(host: object, loopback: bool) -> None:
    assert is_loopback(host) is loopback


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello from loopback"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[int]:
    """An HTTP server on 127.0.0.1; its port."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_loopback_still_works(local_server: int, network_guard: NetworkGuard) -> None:
    for host in ("127.0.0.1", "localhost"):
        with urllib.request.urlopen(f"http://{host}:{local_server}/", timeout=5) as response:
            assert response.read() == b"hello from loopback"
    with socket.create_connection(("127.0.0.1", local_server), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert b"hello from loopback" in sock.makefile("rb").read()
    with socket.socket() as sock:
        sock.settimeout(5)
        assert sock.connect_ex(("127.0.0.1", local_server)) == 0
    assert network_guard.blocked == []


def test_unix_sockets_are_allowed(network_guard: NetworkGuard) -> None:
    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("no AF_UNIX sockets on this platform")
    # a short directory: socket paths are limited to about 100 bytes
    with tempfile.TemporaryDirectory() as where, socket.socket(socket.AF_UNIX) as server:
        path = str(Path(where) / "s.sock")
        server.bind(path)
        server.listen(1)
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(path)
            conn, _ = server.accept()
            with conn:
                client.sendall(b"ping")
                assert conn.recv(4) == b"ping"
    assert network_guard.blocked == []
