"""The load generator's HTTP client and load loop, against a real uvicorn server."""

from __future__ import annotations

import pytest

from amf1.loadgen.client import Connection, LoadgenError, Request, Target
from amf1.loadgen.runner import LoadPlan, run_load, run_sync
from amf1.loadgen.stats import percentile_ms, trace_id_from_headers


class _Fixed:
    name = "fixed"

    def __init__(self, request: Request) -> None:
        self.request = request
        self.seen: list[int | None] = []

    def next_request(self) -> Request:
        return self.request

    def observe(self, request: Request, response: object) -> None:
        self.seen.append(getattr(response, "status", None))


def test_client_reuses_one_connection_for_many_requests(echo_server: str) -> None:
    """Several requests on one keep-alive connection each get their own full response."""

    async def go() -> list[int]:
        connection = Connection(Target.from_url(echo_server))
        try:
            statuses = []
            for size in (1, 10, 100):
                response = await connection.send(Request("POST", "/echo", b"x" * size))
                statuses.append(response.status)
                assert f'"size":{size}'.encode() in response.body
            return statuses
        finally:
            await connection.close()

    assert run_sync(go) == [200, 200, 200]


def test_client_reads_chunked_bodies(echo_server: str) -> None:
    """A chunked (streamed) response body is reassembled."""

    async def go() -> bytes:
        connection = Connection(Target.from_url(echo_server))
        try:
            return (await connection.send(Request("GET", "/chunked"))).body
        finally:
            await connection.close()

    assert run_sync(go) == b'{"a": 1}'


def test_load_run_stops_at_its_request_count(echo_server: str) -> None:
    """A paced run sends exactly rps x duration requests and counts every status."""
    scenario = _Fixed(Request("POST", "/echo", b"{}", label="echo"))
    plan = LoadPlan(rps=200, duration_s=0.5, concurrency=4)
    summary = run_sync(lambda: run_load(Target.from_url(echo_server), scenario, plan))
    assert summary["requests"] == 100
    assert summary["outcomes"] == {"200": 100}
    assert summary["by_label"]["echo"]["requests"] == 100
    assert summary["trace_ids"][0] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert len(scenario.seen) == 100


def test_load_run_stops_at_its_duration(echo_server: str) -> None:
    """An unpaced run ends at the duration bound even though the count bound is far away."""
    scenario = _Fixed(Request("GET", "/status/503"))
    plan = LoadPlan(rps=None, duration_s=0.3, max_requests=10_000_000, concurrency=2)
    summary = run_sync(lambda: run_load(Target.from_url(echo_server), scenario, plan))
    assert 0 < summary["requests"] < 10_000_000
    assert set(summary["outcomes"]) == {"503"}
    assert summary["elapsed_s"] < 5


def test_refused_connections_are_counted_not_raised() -> None:
    """A dead target shows up as connection errors in the summary."""
    scenario = _Fixed(Request("GET", "/"))
    plan = LoadPlan(rps=50, duration_s=0.1, concurrency=1, timeout_s=1)
    summary = run_sync(lambda: run_load(Target.from_url("http://127.0.0.1:9"), scenario, plan))
    assert summary["requests"] == 5
    assert set(summary["outcomes"]) == {"ConnectionRefusedError"}


def test_only_http_urls_are_accepted() -> None:
    """The load generator refuses URLs it cannot speak to."""
    with pytest.raises(LoadgenError):
        Target.from_url("https://example.org")


def test_trace_id_is_read_from_w3c_or_plain_headers() -> None:
    """Both `traceresponse` and a plain trace-id header yield the 32-hex id."""
    tid = "0af7651916cd43dd8448eb211c80319c"
    assert trace_id_from_headers({"traceresponse": f"00-{tid}-b7ad6b7169203331-01"}) == tid
    assert trace_id_from_headers({"x-trace-id": tid.upper()}) == tid
    assert trace_id_from_headers({"x-trace-id": "short"}) is None


def test_percentiles_use_nearest_rank() -> None:
    """p50 of 1..100 ms is 50 ms and p99 is 99 ms."""
    values = [i * 1_000_000 for i in range(1, 101)]
    assert percentile_ms(values, 50) == 50.0
    assert percentile_ms(values, 99) == 99.0
    assert percentile_ms([], 50) is None
