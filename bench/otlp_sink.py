"""A minimal OTLP/gRPC trace receiver for benchmarks: accepts every export and counts the spans.

Run as its own process (`python -m bench.otlp_sink`) so that decoding the exports costs the
process under measurement nothing. It binds 127.0.0.1 on a free port, prints
`{"port": N}` on its first line, and when its stdin closes prints
`{"exports": n, "spans": m}` and exits.
"""

from __future__ import annotations

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

    def export(self, request: ExportTraceServiceRequest, _context: Any) -> Any:
        spans = sum(
            len(scope.spans)
            for resource in request.resource_spans
            for scope in resource.scope_spans
        )
        with self.lock:
            self.exports += 1
            self.spans += spans
        return ExportTraceServiceResponse()


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
    print(json.dumps({"port": port}), flush=True)
    sys.stdin.read()
    server.stop(grace=1).wait(2)
    print(json.dumps({"exports": counter.exports, "spans": counter.spans}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
