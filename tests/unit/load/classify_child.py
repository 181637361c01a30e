"""Child process for test_real_client_errors.py: sends one request per case with Locust's
HttpUser and FastHttpUser (real clients, loopback only), classifies what each request event
carried with the harness's hook, and prints one JSON line per request.

argv: JSON {"case": "http://127.0.0.1:PORT", ...}. The ``dns`` case resolves a name through a
patched getaddrinfo that fails like the resolver does, so no query leaves the machine.
"""

import json
import socket
import sys

import gevent.socket
from locust import HttpUser, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment

from harness.load.hook import RecordHook
from harness.load.records import RECORD_PREFIX, RequestRecord

_real = socket.getaddrinfo


def _fake_getaddrinfo(host, *args, **kwargs):
    if host == "nxdomain.invalid":
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return _real(host, *args, **kwargs)


socket.getaddrinfo = gevent.socket.getaddrinfo = _fake_getaddrinfo

cases = json.loads(sys.argv[1])
lines: list[str] = []
for client, base in (("requests", HttpUser), ("fast", FastHttpUser)):
    for case, host in cases.items():
        class Probe(base):  # noqa: B903
            network_timeout = 0.5
            connection_timeout = 0.5

            @task
            def nothing(self):
                pass

        Probe.host = host
        env = Environment(user_classes=[Probe], events=events)
        hook = RecordHook(lines.append)
        env.events.request.add_listener(hook)
        kwargs = {"timeout": 0.5} if client == "requests" else {}
        Probe(env).client.request("GET", "/timeout-refused-reset", name=f"{client}:{case}", **kwargs)
        env.events.request.remove_listener(hook)
for line in lines:
    rec = RequestRecord.decode(line[len(RECORD_PREFIX):])
    print(json.dumps({"name": rec.name, "status": rec.status, "error": rec.error}))
