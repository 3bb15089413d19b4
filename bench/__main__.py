"""`python -m bench [--json PATH] [--only KEY ...] [--quick] [--merge PATH]`: the suite.

Runs every benchmark under `bench/` (each in its own process, each measuring its own baseline in
the same run) and writes one JSON document with the issue's keys plus per-goal pass/fail.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.suite import SPECS, run_suite


def main() -> int:
    """Run the suite; exit code 0 even when goals are missed (the JSON says so honestly)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--json", type=Path, help="write the suite's JSON document here")
    parser.add_argument(
        "--only", nargs="+", choices=[s.key for s in SPECS], default=(), help="run only these"
    )
    parser.add_argument("--quick", action="store_true", help="shorter runs (noisier figures)")
    parser.add_argument(
        "--merge",
        type=Path,
        help="with --only: keep the other keys' figures from this earlier suite JSON",
    )
    args = parser.parse_args()
    previous = json.loads(args.merge.read_text(encoding="utf-8")) if args.merge else None
    document = run_suite(only=args.only, quick=args.quick, previous=previous)
    text = json.dumps(document, indent=2)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    print("\n| benchmark | goal | measured | pass |\n| --- | --- | --- | --- |")
    for key, verdict in document["goals"].items():
        measured = verdict.get("measured") or f"null: {verdict.get('reason')}"
        status = {True: "yes", False: "NO", None: "-"}[verdict["pass"]]
        print(f"| {key} | {verdict['goal']} | {measured} | {status} |")
    if args.json:
        print(f"\nwritten: {args.json}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
