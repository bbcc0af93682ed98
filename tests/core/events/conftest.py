from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fabrika.core import health, outbox, timers

IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    """Tasks enqueued on commit run at once, in the committing thread."""
    settings.TASKS = IMMEDIATE_TASKS


@pytest.fixture(autouse=True)
def clean_registries():
    """Handlers and consumers registered by a test do not leak into the next one."""
    saved_handlers, saved_consumers = dict(timers._handlers), dict(outbox._consumers)
    health._migrations_confirmed.clear()
    yield
    timers._handlers.clear()
    timers._handlers.update(saved_handlers)
    outbox._consumers.clear()
    outbox._consumers.update(saved_consumers)
    health._migrations_confirmed.clear()


class Receiver:
    """A real HTTP server on 127.0.0.1 recording what it receives. `statuses` is the queue of answers to give
    (200 once it is empty); at most `max_requests` are accepted so a runaway sender cannot hang the test."""

    def __init__(self, max_requests: int = 50):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.max_requests = max_requests
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                with receiver.lock:
                    if len(receiver.requests) >= receiver.max_requests:
                        status = 503
                    else:
                        receiver.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                        status = receiver.statuses.pop(0) if receiver.statuses else 200
                answer = json.dumps({"received": status < 300}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format, *args):  # noqa: A002 - silence the request log
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.timeout = 5
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()
