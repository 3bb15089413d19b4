"""A product process for the shipping tests: logs numbered events, then exits or waits to be killed.

python -m tests.logshipping.child --port P --dir D --run NAME --count N --then exit|hang
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import logshipping
from logshipping import Action, Settings, emit


def main() -> None:
    """Configure, log `count` events, signal readiness through a file, then exit or hang."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--then", choices=("exit", "hang"), required=True)
    args = parser.parse_args()
    with open(os.devnull, "wb") as devnull:  # noqa: PTH123
        logshipping.configure(
            Settings(
                logstash_port=args.port,
                log_buffer_dir=args.dir,
                log_retry_max_s=0.1,
                log_connect_timeout_s=1.0,
            ),
            stream=devnull,
        )
        for seq in range(args.count):
            emit(
                Action.SERVICE_STARTED, f"{args.run} {seq}", {"amf1.run": args.run, "amf1.seq": seq}
            )
        (args.dir / f"{args.run}.logged").touch()  # every logging call above has returned
        if args.then == "hang":
            while True:
                time.sleep(1)
        logshipping.shutdown(timeout_s=20)


if __name__ == "__main__":
    main()
