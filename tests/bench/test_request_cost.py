"""The instruction count per request, measured for real under valgrind's callgrind."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from bench.serving import ROOT

pytestmark = pytest.mark.skipif(
    shutil.which("valgrind") is None, reason="valgrind is not installed (Debian package valgrind)"
)


def test_counts_what_observability_adds_to_each_request() -> None:
    """The arms answer real predictions under callgrind; tracing alone executes more
    instructions per request than bare, everything on more still, though not a multiple of
    the bare one's."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.request_cost", "--requests", "40", "--no-parts"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    counts = result["instructions_per_request"]
    assert set(counts) == {"bare", "tracing", "observed"}
    assert counts["bare"] < counts["tracing"] < counts["observed"]
    # A prediction through FastAPI, pydantic and LightGBM is hundreds of thousands of them.
    assert 100_000 < counts["bare"] < counts["observed"] < 2 * counts["bare"]
    assert result["overhead_pct"]["observed"] == round(
        (counts["observed"] / counts["bare"] - 1) * 100, 1
    )
    assert result["rps_ratio_ceiling"] == round(counts["bare"] / counts["observed"], 3)
