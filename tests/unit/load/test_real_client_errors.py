"""Both Locust clients (HttpUser/requests and FastHttpUser/geventhttpclient) fail for real
against loopback sockets that refuse, reset, hang or close; every failure lands in the same
error class whichever client saw it. Runs in a child (locust must not enter this process)."""

import json
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("classify_child.py")


def serve(mode: str) -> tuple[int, socket.socket]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held = []

    def loop():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            if mode == "reset":  # read the request, then RST
                conn.recv(65536)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
            elif mode == "close":  # read the request, close without answering
                conn.recv(65536)
                conn.close()
            elif mode == "answer503":
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy")
                conn.close()
            else:  # hang: accept and never answer
                held.append(conn)

    threading.Thread(target=loop, daemon=True).start()
    return server.getsockname()[1], server


@pytest.fixture
def targets():
    servers = {mode: serve(mode) for mode in ("reset", "close", "hang", "answer503")}
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused_port = closed.getsockname()[1]
    closed.close()  # nothing listens there: connection refused
    yield {
        "refused": f"http://127.0.0.1:{refused_port}",
        "reset": f"http://127.0.0.1:{servers['reset'][0]}",
        "closed": f"http://127.0.0.1:{servers['close'][0]}",
        "timeout": f"http://127.0.0.1:{servers['hang'][0]}",
        "http503": f"http://127.0.0.1:{servers['answer503'][0]}",
        "dns": "http://nxdomain.invalid:80",
    }
    for _, server in servers.values():
        server.close()


EXPECTED = {
    "refused": "connection_refused",
    "reset": "connection_reset",
    "closed": "connection_reset",
    "timeout": "timeout",
    "http503": "http_503",
    "dns": "dns",
}


def test_both_clients_map_real_failures_to_the_same_error_classes(targets):
    proc = subprocess.run([sys.executable, str(CHILD), json.dumps(targets)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = {row["name"]: row["error"] for row in map(json.loads, proc.stdout.splitlines())}
    for client in ("requests", "fast"):
        assert {case: got[f"{client}:{case}"] for case in EXPECTED} == EXPECTED, client
