"""Stand-in receivers for the export integration tests (tests/integration/test_exports.py).

    python3 receiver.py otlp PORT      an OTLP/HTTP traces receiver: POST /v1/traces takes an
                                       ExportTraceServiceRequest (protobuf, or JSON), decoded with
                                       the official OTLP schema (opentelemetry-proto)
    python3 receiver.py grafana PORT   Grafana's annotation API: POST /api/annotations records
                                       the body and answers {"id", "message"} as Grafana does;
                                       GET /api/annotations lists them

Both answer GET /health, and GET /received with what they got, as JSON: for otlp one object per
span (ids in hex, times in ns as integers, attributes and events decoded), for grafana one
object per request (its JSON body and its Authorization header). A body that does not decode is
refused with 400, as a real receiver would.
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RECEIVED = []
LOCK = threading.Lock()


def any_value(value):
    """An OTLP AnyValue as a plain Python value."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind) if kind else None


def attributes(pairs):
    return {kv.key: any_value(kv.value) for kv in pairs}


def spans_of(request):
    """Every span of an ExportTraceServiceRequest, as plain JSON-able objects."""
    out = []
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                out.append({
                    "resource": resource, "scope": scope_spans.scope.name, "name": span.name,
                    "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex(),
                    "start_time_unix_nano": span.start_time_unix_nano, "end_time_unix_nano": span.end_time_unix_nano,
                    "attributes": attributes(span.attributes), "status_code": span.status.code,
                    "events": [{"name": e.name, "time_unix_nano": e.time_unix_nano,
                                "attributes": attributes(e.attributes)} for e in span.events],
                })
    return out


def decode_traces(body, content_type):
    """The spans of a POST /v1/traces body. Raises ValueError when it does not decode."""
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
        ExportTraceServiceResponse,
    )

    request = ExportTraceServiceRequest()
    try:
        if content_type.startswith("application/json"):
            json_format.Parse(body, request)
        else:
            request.ParseFromString(body)
    except (DecodeError, json_format.ParseError) as exc:
        raise ValueError(str(exc)) from None
    return spans_of(request), ExportTraceServiceResponse().SerializeToString()


class Handler(BaseHTTPRequestHandler):
    role = "otlp"

    def answer(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with LOCK:
            received = list(RECEIVED)
        if self.path == "/health":
            self.answer(200, b'{"ok": true}')
        elif self.path == "/received":
            self.answer(200, json.dumps(received).encode())
        elif self.role == "grafana" and self.path.startswith("/api/annotations"):
            self.answer(200, json.dumps([r["body"] for r in received]).encode())
        else:
            self.answer(404, b'{"message": "not found"}')

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.role == "otlp" and self.path == "/v1/traces":
            try:
                spans, reply = decode_traces(body, self.headers.get("Content-Type", ""))
            except ValueError as exc:
                self.answer(400, json.dumps({"message": str(exc)}).encode())
                return
            with LOCK:
                RECEIVED.extend(spans)
            self.answer(200, reply, "application/x-protobuf")
        elif self.role == "grafana" and self.path == "/api/annotations":
            try:
                annotation = json.loads(body)
            except ValueError:
                self.answer(400, b'{"message": "bad request data"}')
                return
            with LOCK:
                RECEIVED.append({"body": annotation, "authorization": self.headers.get("Authorization")})
                number = len(RECEIVED)
            self.answer(200, json.dumps({"id": number, "message": "Annotation added"}).encode())
        else:
            self.answer(404, b'{"message": "not found"}')

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.role, fmt % args))


def main():
    role, port = sys.argv[1], int(sys.argv[2])
    if role not in ("otlp", "grafana"):
        sys.exit("usage: receiver.py otlp|grafana PORT")
    Handler.role = role
    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
