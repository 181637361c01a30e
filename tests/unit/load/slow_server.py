"""A tiny HTTP target for the load tests, in a thread of the test process: ``GET /sleep/<s>``
answers after ``<s>`` seconds, ``GET /json`` with ``{"id": "<n>"}`` (an acknowledged write),
any other path with ``ok`` at once; every arrival is logged with its time (the test process's
clock)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class SlowServer:
    """``with SlowServer() as server``: listening on ``server.url`` until the block ends.

    Attributes:
        arrivals: ``(epoch_s, path)`` of every request, when its request line was read.
    """

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, str]] = []
        lock = threading.Lock()
        arrivals = self.arrivals

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                with lock:
                    arrivals.append((time.time(), self.path))
                if self.path.startswith("/sleep/"):
                    time.sleep(float(self.path.removeprefix("/sleep/")))
                body = b'{"id": "%d"}' % len(arrivals) if self.path == "/json" else b"ok"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:  # the client gave up
                    pass

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> "SlowServer":
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
