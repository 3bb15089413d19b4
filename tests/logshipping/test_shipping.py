"""Shipping guarantees, each against a real TCP receiver that the test starts, stops, restarts."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import logshipping
from logshipping import Action, Settings, emit
from logshipping.shipping.transport import BatchTcpTransport
from tests.logshipping.conftest import Captured
from tests.logshipping.receiver import LineReceiver
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 60.0  # generous: the CPU is shared; a pass is usually far quicker


def _runs(receiver: LineReceiver, run: str) -> list[dict[str, Any]]:
    return [e for e in receiver.events() if e.get("amf1.run") == run]


def _assert_complete(events: Sequence[dict[str, Any]], count: int) -> None:
    """Every seq 0..count-1 arrived; any duplicate is a re-delivery with the same event.id."""
    ids_by_seq: dict[int, set[str]] = {}
    for event in events:
        ids_by_seq.setdefault(int(event["amf1.seq"]), set()).add(str(event["event.id"]))
    assert sorted(ids_by_seq) == list(range(count))
    assert all(len(ids) == 1 for ids in ids_by_seq.values())


def _log_numbered(run: str, count: int, level: str = "info") -> None:
    for seq in range(count):
        emit(
            Action.SERVICE_STARTED,
            f"{run} {seq}",
            {"amf1.run": run, "amf1.seq": seq},
            level=level,  # type: ignore[arg-type]
        )


@pytest.fixture
def ship(settings_for: Callable[..., Settings], stdout: Captured) -> Callable[..., None]:
    """Configures the pipeline with shipping on, to the given port."""

    def configure(port: int, **overrides: Any) -> None:
        logshipping.configure(
            settings_for(log_ship=True, logstash_port=port, **overrides), stream=stdout
        )

    return configure


def test_events_logged_while_the_receiver_is_down_arrive_when_it_is_back(
    ship: Callable[..., None],
) -> None:
    """Receiver down, then up: every event arrives."""
    receiver = LineReceiver(free_port())
    ship(receiver.port)
    _log_numbered("down", 500)
    receiver.start()
    try:
        assert receiver.wait_for(lambda ev: len(ev) >= 500, WAIT_S)
        _assert_complete(_runs(receiver, "down"), 500)
    finally:
        receiver.stop()


def test_receiver_restart_mid_stream_loses_nothing(
    ship: Callable[..., None], receiver: LineReceiver
) -> None:
    """A receiver that goes away while connected, then returns: the kept connection recovers."""
    ship(receiver.port)
    _log_numbered("before", 300)
    assert receiver.wait_for(lambda ev: len(ev) >= 300, WAIT_S)
    receiver.stop()
    _log_numbered("during", 300)
    time.sleep(0.3)  # let the shipper notice the dead receiver and back off
    receiver.start()
    assert receiver.wait_for(lambda ev: len(_runs(receiver, "during")) >= 300, WAIT_S)
    _assert_complete(_runs(receiver, "before"), 300)
    _assert_complete(_runs(receiver, "during"), 300)


def test_a_connection_reset_with_events_in_flight_loses_nothing(
    ship: Callable[..., None],
) -> None:
    """The receiver resets the connection without reading what was written: the shipper notices
    (no acknowledgement, or the reset on the next write) and sends those events again."""
    receiver = LineReceiver(free_port(), resets=2).start()
    try:
        ship(receiver.port)
        _log_numbered("reset", 100)
        time.sleep(0.3)  # a second write, on the reset connection or a new one
        for seq in range(100, 200):
            emit(Action.SERVICE_STARTED, f"reset {seq}", {"amf1.run": "reset", "amf1.seq": seq})
        assert receiver.wait_for(lambda ev: len(_runs(receiver, "reset")) >= 200, WAIT_S)
        assert receiver.resets == 0, "the receiver never reset a connection"
        _assert_complete(_runs(receiver, "reset"), 200)
    finally:
        receiver.stop()


class _LostWrite:
    """Fault injection: once armed, the next write never leaves (as if the connection died with
    it in flight) and the next acknowledgement wait fails."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.armed = True
        self.lost: list[bytes] = []
        self.failed = False
        real_write = BatchTcpTransport.write
        real_wait = BatchTcpTransport.wait_acknowledged

        def write(transport: BatchTcpTransport, events: Sequence[bytes]) -> None:
            if self.armed and not self.lost:
                self.lost.extend(events)
                transport._written = True
                return
            real_write(transport, events)

        def wait_acknowledged(transport: BatchTcpTransport) -> None:
            if self.lost and not self.failed:
                self.failed = True
                transport._written = False
                raise ConnectionResetError("injected: no acknowledgement")
            real_wait(transport)

        monkeypatch.setattr(BatchTcpTransport, "write", write)
        monkeypatch.setattr(BatchTcpTransport, "wait_acknowledged", wait_acknowledged)


def test_writes_the_receiver_never_acknowledged_are_sent_again(
    ship: Callable[..., None], receiver: LineReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sent without waiting, confirmed later: a lost write is sent again from the last
    confirmed position."""
    fault = _LostWrite(monkeypatch)
    ship(receiver.port)
    _log_numbered("unacked", 200)
    assert receiver.wait_for(lambda ev: len(_runs(receiver, "unacked")) >= 200, WAIT_S)
    assert fault.lost and fault.failed, "the fault was not injected"
    _assert_complete(_runs(receiver, "unacked"), 200)


def test_a_write_lost_before_the_service_goes_quiet_is_sent_again(
    ship: Callable[..., None], receiver: LineReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No event after the lost write: the shipper still confirms within about a second, finds
    the loss and sends the events again."""
    fault = _LostWrite(monkeypatch)
    fault.armed = False
    ship(receiver.port)
    _log_numbered("first", 10)
    assert receiver.wait_for(lambda ev: len(_runs(receiver, "first")) >= 10, WAIT_S)
    fault.armed = True
    for seq in range(10):  # right after a confirmation: the next one is due in ~1 s
        emit(Action.SERVICE_STARTED, f"quiet {seq}", {"amf1.run": "quiet", "amf1.seq": seq})
    assert receiver.wait_for(lambda ev: len(_runs(receiver, "quiet")) >= 10, 10.0)
    assert fault.lost and fault.failed, "the fault was not injected"
    _assert_complete(_runs(receiver, "quiet"), 10)


def _child(tmp: Path, port: int, run: str, count: int, then: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.logshipping.child",
            "--port",
            str(port),
            "--dir",
            str(tmp),
            "--run",
            run,
            "--count",
            str(count),
            "--then",
            then,
        ],
        cwd=ROOT,
    )


def _wait_file(path: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not path.exists():
        assert process.poll() is None, "child process died"
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Child processes, killed at the end whatever happened."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_sigkilled_process_events_arrive_after_restart(
    tmp_path: Path, children: list[subprocess.Popen[bytes]]
) -> None:
    """Kill -9 while the receiver is down; restart; every event logged before the kill arrives."""
    receiver = LineReceiver(free_port())
    killed = _child(tmp_path, receiver.port, "killed", 3000, "hang")
    children.append(killed)
    _wait_file(tmp_path / "killed.logged", killed)
    os.kill(killed.pid, signal.SIGKILL)  # no chance to flush anything
    killed.wait(timeout=10)
    restarted = _child(tmp_path, receiver.port, "restarted", 10, "exit")
    children.append(restarted)
    _wait_file(tmp_path / "restarted.logged", restarted)
    receiver.start()
    try:
        assert receiver.wait_for(lambda ev: len(_runs(receiver, "killed")) >= 3000, WAIT_S)
        assert restarted.wait(timeout=WAIT_S) == 0
        _assert_complete(_runs(receiver, "killed"), 3000)
        _assert_complete(_runs(receiver, "restarted"), 10)
    finally:
        receiver.stop()


def test_several_processes_each_keep_their_own_buffer_and_lose_nothing(
    tmp_path: Path, receiver: LineReceiver, children: list[subprocess.Popen[bytes]]
) -> None:
    """Like uvicorn workers: three processes log at once; every event of each arrives."""
    runs = [f"worker{i}" for i in range(3)]
    children.extend(_child(tmp_path, receiver.port, run, 1000, "exit") for run in runs)
    for process in children:
        assert process.wait(timeout=WAIT_S) == 0
    assert receiver.wait_for(lambda ev: len(ev) >= 3000, WAIT_S)
    for run in runs:
        _assert_complete(_runs(receiver, run), 1000)
    assert {e["process.pid"] for e in receiver.events()} == {p.pid for p in children}
    assert not list(tmp_path.glob("amf1-logs-*")), "delivered buffers are removed at exit"


def test_graceful_shutdown_is_bounded_and_the_rest_ships_at_next_start(
    ship: Callable[..., None], stdout: Captured
) -> None:
    """A receiver that accepts but never reads: shutdown gives up in time; nothing is lost."""
    black_hole = socket.socket()
    black_hole.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    black_hole.bind(("127.0.0.1", 0))
    black_hole.listen(8)
    port = black_hole.getsockname()[1]
    try:
        ship(port, log_batch_size=5000)
        _log_numbered("stuck", 3000)
        time.sleep(0.5)  # the shipper is now blocked writing into the full window
        assert logshipping.shutdown(timeout_s=1.0) is False
    finally:
        black_hole.close()
    receiver = LineReceiver(port).start()
    try:
        ship(receiver.port)  # same process, same pid: recovers its own buffer
        assert receiver.wait_for(lambda ev: len(_runs(receiver, "stuck")) >= 3000, WAIT_S)
        _assert_complete(_runs(receiver, "stuck"), 3000)
    finally:
        receiver.stop()


def test_shutdown_keeps_retrying_a_receiver_that_comes_back_within_the_timeout(
    ship: Callable[..., None],
) -> None:
    """The receiver is down when the process stops and up half a second later: the bounded flush
    retries and delivers everything, rather than giving up after the first refused connect."""
    receiver = LineReceiver(free_port())
    ship(receiver.port, log_retry_max_s=0.1)
    _log_numbered("stopping", 200)
    time.sleep(0.3)  # the shipper has tried, been refused and buffered the events
    comes_back = threading.Timer(0.5, receiver.start)
    comes_back.start()
    try:
        assert logshipping.shutdown(timeout_s=10.0) is True
        comes_back.join()
        assert receiver.wait_for(lambda ev: len(_runs(receiver, "stopping")) >= 200, WAIT_S)
        _assert_complete(_runs(receiver, "stopping"), 200)
    finally:
        comes_back.cancel()
        receiver.stop()


def _dropped(events: Sequence[dict[str, Any]]) -> int:
    return sum(
        int(e["amf1.shipper.dropped_count"])
        for e in events
        if e["event.action"] == Action.SHIPPER_DROPPED.value
    )


def test_full_buffer_drops_debug_and_info_first_and_reports_the_count(
    ship: Callable[..., None], stdout: Captured
) -> None:
    """Bounded by count: warnings and errors survive, every dropped info is counted."""
    receiver = LineReceiver(free_port())
    ship(receiver.port, log_buffer_max_events=100)
    _log_numbered("info", 150)
    _log_numbered("warning", 30, level="warning")
    _log_numbered("error", 20, level="error")
    deadline = time.monotonic() + WAIT_S
    while not _dropped(stdout.events()):
        assert time.monotonic() < deadline, "no shipper-dropped event"
        time.sleep(0.05)
    receiver.start()
    try:

        def settled(events: list[dict[str, Any]]) -> bool:
            infos = [e for e in events if e.get("amf1.run") == "info"]
            return len(infos) + _dropped(events) == 150 and len(events) >= 50 + len(infos)

        assert receiver.wait_for(settled, WAIT_S)
        _assert_complete(_runs(receiver, "warning"), 30)
        _assert_complete(_runs(receiver, "error"), 20)
        assert len(_runs(receiver, "info")) < 100
    finally:
        receiver.stop()


def test_events_older_than_the_age_bound_are_dropped_and_reported(
    ship: Callable[..., None], stdout: Captured
) -> None:
    """Bounded by age: stale events are dropped while the receiver is down, and reported."""
    receiver = LineReceiver(free_port())
    ship(receiver.port, log_buffer_max_age_s=0.3)
    _log_numbered("stale", 10)
    deadline = time.monotonic() + WAIT_S
    while _dropped(stdout.events()) < 10:
        assert time.monotonic() < deadline, "stale events were not reported dropped"
        time.sleep(0.05)
    receiver.start()
    try:
        assert receiver.wait_for(lambda ev: _dropped(ev) > 0, WAIT_S)
        assert _runs(receiver, "stale") == []
    finally:
        receiver.stop()


def test_logging_never_waits_for_the_network(
    ship: Callable[..., None], receiver: LineReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the shipper stuck inside a send, logging calls still return; nothing is lost."""
    release = threading.Event()
    entered = threading.Event()
    real_write = BatchTcpTransport.write

    def stuck_write(self: BatchTcpTransport, events: Sequence[bytes]) -> None:
        entered.set()
        release.wait(WAIT_S)
        real_write(self, events)

    monkeypatch.setattr(BatchTcpTransport, "write", stuck_write)
    ship(receiver.port)
    _log_numbered("first", 1)
    assert entered.wait(WAIT_S)
    _log_numbered("blocked", 5000)  # would hang here if logging waited on the network
    assert not receiver.lines
    release.set()
    assert receiver.wait_for(lambda ev: len(_runs(receiver, "blocked")) >= 5000, WAIT_S)
    _assert_complete(_runs(receiver, "blocked"), 5000)


def test_the_shippers_own_warnings_are_not_shipped(
    ship: Callable[..., None], stdout: Captured
) -> None:
    """The shipper's 'receiver unavailable' warning reaches stdout only (no feedback loop)."""
    receiver = LineReceiver(free_port())
    ship(receiver.port)
    _log_numbered("x", 1)
    deadline = time.monotonic() + WAIT_S
    while not any(e.get("log.logger") == "logshipping.shipper" for e in stdout.events()):
        assert time.monotonic() < deadline, "no shipper warning on stdout"
        time.sleep(0.05)
    receiver.start()
    try:
        assert receiver.wait_for(lambda ev: len(ev) >= 1, WAIT_S)
        time.sleep(0.2)
        assert all(e.get("log.logger") != "logshipping.shipper" for e in receiver.events())
    finally:
        receiver.stop()
    logging.getLogger("logshipping.shipper").warning("direct")


def test_sigterm_flushes_every_event_before_the_process_exits(
    tmp_path: Path, receiver: LineReceiver, children: list[subprocess.Popen[bytes]]
) -> None:
    """A process terminated with SIGTERM (as uvicorn re-raises it) ships everything first."""
    process = _child(tmp_path, receiver.port, "terminated", 2000, "hang")
    children.append(process)
    _wait_file(tmp_path / "terminated.logged", process)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=WAIT_S) == -signal.SIGTERM
    assert receiver.wait_for(lambda ev: len(ev) >= 2000, WAIT_S)
    _assert_complete(_runs(receiver, "terminated"), 2000)
    assert not list(tmp_path.glob("amf1-logs-*")), "delivered buffers are removed at exit"


def test_a_forked_child_ships_its_own_events_under_its_own_pid(
    ship: Callable[..., None], receiver: LineReceiver, tmp_path: Path
) -> None:
    """Pre-fork servers: the child starts its own shipper and buffer; both sides lose nothing."""
    ship(receiver.port)
    _log_numbered("parent-before", 10)
    pid = os.fork()
    if pid == 0:  # child: log, flush, leave without running pytest's teardown
        _log_numbered("child", 200)
        os._exit(0 if logshipping.shutdown(timeout_s=20) else 3)
    _log_numbered("parent-after", 200)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert receiver.wait_for(lambda ev: len(ev) >= 410, WAIT_S)
    _assert_complete(_runs(receiver, "child"), 200)
    _assert_complete(_runs(receiver, "parent-after"), 200)
    assert {e["process.pid"] for e in _runs(receiver, "child")} == {pid}
    assert {e["process.pid"] for e in _runs(receiver, "parent-after")} == {os.getpid()}


def test_the_shipping_handler_works_as_a_plain_logging_handler(
    ship: Callable[..., None], receiver: LineReceiver
) -> None:
    """A record whose message is an already rendered line is shipped unchanged."""
    ship(receiver.port)
    handler = logshipping.config._State.shipper
    assert handler is not None
    logger = logging.getLogger("tests.plain")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.warning(b'{"amf1.run":"plain","amf1.seq":0,"event.id":"x"}\n')
    finally:
        logger.removeHandler(handler)
    assert receiver.wait_for(lambda ev: len(_runs(receiver, "plain")) == 1, WAIT_S)


def test_shipper_counts_what_it_buffered_dropped_and_shipped(ship: Callable[..., None]) -> None:
    """`shipper_counts()` (the service's log metrics): 150 events into a 100-event buffer with
    the receiver down: 100 buffered, 50 dropped as buffer_full; once it is up, all shipped."""
    receiver = LineReceiver(free_port())
    ship(receiver.port, log_buffer_max_events=100)
    _log_numbered("counted", 150)
    deadline = time.monotonic() + WAIT_S
    counts = logshipping.shipper_counts()
    while counts is None or counts.dropped["buffer_full"] < 50:
        assert time.monotonic() < deadline, f"not counted: {counts}"
        time.sleep(0.05)
        counts = logshipping.shipper_counts()
    assert counts.buffered == 100
    assert counts.shipped == 0
    assert counts.dropped == {"journal_full": 0, "buffer_full": 50, "expired": 0}
    receiver.start()
    try:
        deadline = time.monotonic() + WAIT_S
        while (counts := logshipping.shipper_counts()) is not None and (
            counts.buffered or counts.shipped < 100
        ):
            assert time.monotonic() < deadline, f"not shipped: {counts}"
            time.sleep(0.05)
        assert receiver.wait_for(lambda ev: len(ev) >= 100, WAIT_S)
    finally:
        receiver.stop()
