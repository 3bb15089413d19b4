"""Events/s from the service's logger to searchable in Elasticsearch, beside the bulk ceiling.

Needs the running stack (`amf1 stack up`): Elasticsearch at AMF1_ES_URL, the pipeline (collector
or Logstash) at AMF1_LOGSTASH_HOST:AMF1_LOGSTASH_PORT.

- ceiling: the same documents (the lines the service's logger renders, passed through the rules'
  Python oracle, `_id` = `event.id`, written with `create` like the pipeline) bulk-indexed
  straight into the same Elasticsearch with the Python client's `helpers.parallel_bulk`, into an
  index under the same template (`amf1-logs-ceiling-*`); the clock runs from the first bulk
  request until all of them are searchable;
- pipeline, burst: the service's logger (`logshipping.emit`, shipper on) -> TCP -> pipeline ->
  ES as fast as the logger goes; the clock runs from the first logging call until all of them
  are searchable;
- pipeline, paced: the same logger at half the burst's (median) rate for a few seconds: the lag a
  steady load below capacity sees.

Ceiling and burst alternate `--rounds` times and the medians are compared: the machine is shared,
so a single pair is mostly noise. Both are watched the same way: one count every 100 ms once
everything is sent. Lag is measured in the paced phase only: lag = the moment a sampled event was
first seen by a search minus the moment it was logged (a search for the pending samples every
100 ms, so lag is resolved to about 0.1 s). Those searches cost Elasticsearch CPU that the
ceiling does not pay (in a burst they took its CPU per event from ~80 to ~150 us), so a burst
that ran them measured its own probe more than the pipeline.

Nobody forces a refresh: "searchable" is what the index's refresh interval gives a user.

    python -m bench.pipeline [--events 30000] [--rounds 3] [--paced-s 10] [--timeout-s 240]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError, helpers

import logshipping
from elk import installer, pipeline_rules
from elk.client import make_client
from elk.security.credentials import StackUser
from logshipping import Action, Settings, emit

# Every event the bench logs carries this dataset (the cleanup deletes by it).
BENCH_DATASET = "amf1.bench"
SAMPLES = 500
POLL_S = 0.1


def _settings(buffer_dir: Path | None = None) -> Settings:
    """The service's logger settings, marked so bench events are told apart from real ones."""
    settings = Settings(service_name="amf1-bench", environment="test", log_dataset=BENCH_DATASET)
    return settings.model_copy(update={"log_buffer_dir": buffer_dir}) if buffer_dir else settings


def _clean_up(es: Elasticsearch) -> str:
    """Delete the bench's events (its dataset) from the daily indices; say what happened.

    The stripped distribution of the native stack has no delete-by-query; there the events are
    found with a scroll and deleted by id. Left behind, they pile up in the day's index that the
    next run's pipeline writes into (a bigger index costs Elasticsearch more per new document).
    """
    query = {"term": {"event.dataset": BENCH_DATASET}}
    try:
        found = es.delete_by_query(
            index=pipeline_rules.INDEX_PATTERN, query=query, conflicts="proceed"
        )
    except ApiError:
        hits = helpers.scan(
            es, index=pipeline_rules.INDEX_PATTERN, query={"query": query}, _source=False
        )
        deletes = ({"_op_type": "delete", "_index": h["_index"], "_id": h["_id"]} for h in hits)
        deleted, _ = helpers.bulk(
            es, deletes, chunk_size=5000, stats_only=True, raise_on_error=False
        )
        return f"deleted {deleted} bench events by id (no delete-by-query on this server)"
    return f"deleted {found.get('deleted', 0)} bench events"


def _fields(run_id: str, seq: int) -> dict[str, Any]:
    return {
        "http.request.method": "POST",
        "url.path": "/predict/qualifying",
        "http.response.status_code": 200,
        "event.duration": 1_234_567,
        "amf1.model.name": "stage1-qualifying",
        "amf1.model.version": "2026.11.1",
        "amf1.prediction.id": str(uuid.uuid4()),
        "amf1.bench.run": run_id,
        "amf1.bench.seq": seq,
    }


def _count(es: Elasticsearch, index: str, run_id: str) -> int:
    try:
        found = es.count(index=index, query={"term": {"amf1.bench.run": run_id}})
    except NotFoundError:  # the index does not exist yet
        return 0
    count: int = found["count"]
    return count


def _wait_searchable(
    es: Elasticsearch, index: str, run_id: str, events: int, deadline: float
) -> float:
    while _count(es, index, run_id) < events:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {_count(es, index, run_id)} of {events} searchable in time")
        time.sleep(POLL_S)
    return time.perf_counter()


def service_lines(run_id: str, events: int) -> list[str]:
    """The JSON lines the service's logger renders for `events` access events (not shipped)."""
    stream = io.BytesIO()
    logshipping.configure(_settings(), ship=False, stream=stream)
    for seq in range(events):
        emit(Action.PREDICTION_SUCCEEDED, "prediction served", _fields(run_id, seq))
    logshipping.shutdown()
    return stream.getvalue().decode().splitlines()


def _ceiling_docs(lines: list[str], index: str) -> Iterator[dict[str, Any]]:
    received = datetime.now(UTC)
    for line in lines:
        indexed = pipeline_rules.reference_document(line, received)
        yield {
            "_op_type": "create",
            "_index": index,
            "_id": indexed.document_id,
            "_source": indexed.document,
        }


def measure_ceiling(es: Elasticsearch, events: int, timeout_s: float) -> dict[str, Any]:
    """Bulk-index the documents straight into ES with parallel_bulk; events/s to searchable."""
    run_id = uuid.uuid4().hex
    index = f"{pipeline_rules.INDEX_PREFIX}ceiling-{run_id[:8]}"
    # Built before the clock starts: the ceiling pays only for indexing.
    docs = list(_ceiling_docs(service_lines(run_id, events), index))
    start = time.perf_counter()
    deadline = time.monotonic() + timeout_s
    for ok, item in helpers.parallel_bulk(es, docs, thread_count=2, chunk_size=2000):
        if not ok:
            raise SystemExit(f"ceiling bulk item failed: {item}")
    end = _wait_searchable(es, index, run_id, events, deadline)
    es.indices.delete(index=index)
    return {"events": events, "events_per_s": round(events / (end - start))}


class LagProbe:
    """Finds when sampled events first become searchable (one search per poll)."""

    def __init__(self, es: Elasticsearch, run_id: str, events: int) -> None:
        self.es, self.run_id = es, run_id
        step = max(events // SAMPLES, 1)
        self.pending: set[int] = set(range(0, events, step))
        self.logged_at: dict[int, float] = {}
        self.lags_s: list[float] = []

    def poll(self) -> None:
        """Record the lag of every pending sample that a search now finds."""
        ready = [seq for seq in self.pending if seq in self.logged_at]
        if not ready:
            return
        try:
            found = self.es.search(
                index=pipeline_rules.INDEX_PATTERN,
                query={
                    "bool": {
                        "filter": [
                            {"term": {"amf1.bench.run": self.run_id}},
                            {"terms": {"amf1.bench.seq": ready}},
                        ]
                    }
                },
                source_includes=["amf1.bench.seq"],
                size=len(ready),
            )
        except NotFoundError:  # the daily index does not exist yet
            return
        now = time.perf_counter()
        for hit in found["hits"]["hits"]:
            seq = int(hit["_source"]["amf1.bench.seq"])
            if seq in self.pending:
                self.pending.discard(seq)
                self.lags_s.append(now - self.logged_at[seq])


def _lag_summary(probe: LagProbe) -> dict[str, Any]:
    lags = sorted(probe.lags_s)
    if not lags:
        return {"lag_samples": 0}
    return {
        "lag_samples": len(lags),
        "lag_p50_s": round(lags[len(lags) // 2], 3),
        "lag_p95_s": round(lags[int(0.95 * (len(lags) - 1))], 3),
        "lag_max_s": round(lags[-1], 3),
    }


def _drain(es: Elasticsearch, probe: LagProbe, events: int, deadline: float) -> None:
    """Poll the probe until all `events` of its run are searchable."""
    while _count(es, pipeline_rules.INDEX_PATTERN, probe.run_id) < events:
        if time.monotonic() > deadline:
            found = _count(es, pipeline_rules.INDEX_PATTERN, probe.run_id)
            raise SystemExit(f"pipeline: only {found} of {events} searchable in time")
        probe.poll()
        time.sleep(POLL_S)
    probe.poll()


def _log_paced(probe: LagProbe, events: int, rate_per_s: float) -> None:
    """Log `events` with the service's logger at `rate_per_s`, polling the probe as it goes."""
    start = time.perf_counter()
    next_poll = start + POLL_S
    for seq in range(events):
        due = start + seq / rate_per_s
        while time.perf_counter() < due:
            time.sleep(0.001)
        if seq in probe.pending:
            probe.logged_at[seq] = time.perf_counter()
        emit(Action.PREDICTION_SUCCEEDED, "prediction served", _fields(probe.run_id, seq))
        if seq % 256 == 0 and time.perf_counter() > next_poll:
            probe.poll()
            next_poll = time.perf_counter() + POLL_S


def measure_burst(es: Elasticsearch, events: int, timeout_s: float) -> dict[str, Any]:
    """Events/s from the first logging call until all are searchable (logger flat out)."""
    run_id = uuid.uuid4().hex
    start = time.perf_counter()
    deadline = time.monotonic() + timeout_s
    for seq in range(events):
        emit(Action.PREDICTION_SUCCEEDED, "prediction served", _fields(run_id, seq))
    logging_s = time.perf_counter() - start
    end = _wait_searchable(es, pipeline_rules.INDEX_PATTERN, run_id, events, deadline)
    return {
        "events": events,
        "events_per_s": round(events / (end - start)),
        "logging_s": round(logging_s, 3),
    }


def measure_paced(
    es: Elasticsearch, rate_per_s: float, paced_s: float, timeout_s: float
) -> dict[str, Any]:
    """Lag of a steady load at `rate_per_s` for `paced_s` seconds."""
    events = max(int(rate_per_s * paced_s), 1)
    probe = LagProbe(es, uuid.uuid4().hex, events)
    _log_paced(probe, events, rate_per_s)
    _drain(es, probe, events, time.monotonic() + timeout_s)
    return {"events": events, "rate_per_s": round(rate_per_s), **_lag_summary(probe)}


def _median(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def run(events: int, rounds: int, paced_s: float, timeout_s: float) -> dict[str, Any]:
    """Alternate ceiling and pipeline `rounds` times (the machine is shared: medians), then pace."""
    es = make_client(user=StackUser.ADMIN)
    installer.install(es)
    ceilings: list[dict[str, Any]] = []
    bursts: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, Path(os.devnull).open("wb") as devnull:
        for _ in range(rounds):
            ceilings.append(measure_ceiling(es, events, timeout_s))
            logshipping.configure(_settings(Path(tmp)), stream=devnull)
            try:
                bursts.append(measure_burst(es, events, timeout_s))
            finally:
                logshipping.shutdown(timeout_s=10)
        ceiling = _median([c["events_per_s"] for c in ceilings])
        pipeline = _median([b["events_per_s"] for b in bursts])
        logshipping.configure(_settings(Path(tmp)), stream=devnull)
        try:
            paced = measure_paced(es, pipeline / 2, paced_s, timeout_s)
        finally:
            logshipping.shutdown(timeout_s=10)
    ratio = pipeline / ceiling
    p95 = paced.get("lag_p95_s")
    cleanup = _clean_up(es)
    return {
        "benchmark": "pipeline",
        "events_per_round": events,
        "ceiling_events_per_s": ceiling,
        "pipeline_events_per_s": pipeline,
        "ratio_to_ceiling": round(ratio, 3),
        "paced": paced,
        "rounds": {"ceiling": ceilings, "pipeline_burst": bursts},
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cleanup": cleanup,
        "goals": {
            "ratio_ge_0.70": ratio >= 0.70,
            "events_per_s_ge_10000": pipeline >= 10_000,
            "paced_p95_lag_le_2s": p95 is not None and p95 <= 2.0,
        },
    }


def main() -> int:
    """Run the measurements and print one JSON document."""
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__)
    parser.add_argument("--events", type=int, default=30_000, help="events per round")
    parser.add_argument("--rounds", type=int, default=3, help="ceiling/pipeline alternations")
    parser.add_argument("--paced-s", type=float, default=10.0, help="length of the paced phase")
    parser.add_argument("--timeout-s", type=float, default=240.0, help="per measurement")
    args = parser.parse_args()
    try:
        document = run(args.events, args.rounds, args.paced_s, args.timeout_s)
    except TransportError as exc:
        # Elasticsearch went away mid-run (the stack is shared): no figure rather than a wrong one.
        json.dump(
            {"benchmark": "pipeline", "error": f"Elasticsearch unreachable: {exc}"}, sys.stdout
        )
        sys.stdout.write("\n")
        return 1
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
