"""A TCP JSON-lines receiver for benchmarks, standing in for the log pipeline (collector port).

Run as its own process (`python -m bench.line_sink`) so reading the shipped stream costs the
process under measurement nothing. It binds 127.0.0.1 on a free port, prints `{"port": N}` on
its first line, and when its stdin closes prints `{"lines": n, "bytes": m}` and exits.
"""

from __future__ import annotations

import asyncio
import json
import sys


class _Counter:
    lines = 0
    bytes = 0


async def _serve(counter: _Counter) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(1 << 16):
                counter.lines += chunk.count(b"\n")
                counter.bytes += len(chunk)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"port": port}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


def main() -> int:
    """Count lines until stdin closes; print the port first and the counts last."""
    counter = _Counter()
    asyncio.run(_serve(counter))
    print(json.dumps({"lines": counter.lines, "bytes": counter.bytes}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
