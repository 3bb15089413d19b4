"""A minimal OTLP trace receiver for benchmarks (gRPC and HTTP/protobuf): accepts every export
and counts the spans.

Run as its own process (`python -m bench.otlp_sink`) so that decoding the exports costs the
process under measurement nothing. It binds 127.0.0.1 on two free ports, prints
`{"port": N, "http_port": M}` on its first line (gRPC on N, `POST /v1/traces` on M), and when its
stdin closes prints `{"exports": n, "spans": m}` and exits.
"""

from __future__ import annotations

import http.server
import json
import sys
import threading
from concurrent import futures
from typing import Any

import grpc  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

_EXPORT_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


class _Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.exports = 0
        self.spans = 0

    def export(self, request: ExportTraceServiceRequest, _context: Any = None) -> Any:
        spans = sum(
            len(scope.spans)
            for resource in request.resource_spans
            for scope in resource.scope_spans
        )
        with self.lock:
            self.exports += 1
            self.spans += spans
        return ExportTraceServiceResponse()


def _http_server(counter: _Counter) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the exporters use it

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            reply = counter.export(ExportTraceServiceRequest.FromString(body)).SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: one line per export would flood the benchmark's output."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> int:
    """Serve until stdin closes; print the port first and the counts last."""
    counter = _Counter()
    handler = grpc.method_handlers_generic_handler(
        "opentelemetry.proto.collector.trace.v1.TraceService",
        {
            "Export": grpc.unary_unary_rpc_method_handler(
                counter.export,
                request_deserializer=ExportTraceServiceRequest.FromString,
                response_serializer=ExportTraceServiceResponse.SerializeToString,
            )
        },
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    http_server = _http_server(counter)
    print(json.dumps({"port": port, "http_port": http_server.server_port}), flush=True)
    sys.stdin.read()
    server.stop(grace=1).wait(2)
    http_server.shutdown()
    print(json.dumps({"exports": counter.exports, "spans": counter.spans}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
