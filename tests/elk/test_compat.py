"""Tests of elk.compat: the 9.x client's media types downgraded to ones 8.x servers accept."""

from __future__ import annotations

from elastic_transport import HttpHeaders

from elk.client import make_client
from elk.compat import Compat8HttpNode, downgrade_compat_headers


def test_compat9_media_types_become_compat8() -> None:
    """Accept and Content-Type asking for 9 ask for 8, other headers are left alone."""
    headers = HttpHeaders(
        {
            "accept": "application/vnd.elasticsearch+json; compatible-with=9",
            "content-type": "application/vnd.elasticsearch+x-ndjson; compatible-with=9",
            "x-opaque-id": "abc",
        }
    )
    out = downgrade_compat_headers(headers)
    assert out is not None
    assert out["accept"] == "application/vnd.elasticsearch+json; compatible-with=8"
    assert out["content-type"] == "application/vnd.elasticsearch+x-ndjson; compatible-with=8"
    assert out["x-opaque-id"] == "abc"


def test_no_headers_stay_none() -> None:
    """A request without headers is passed on unchanged."""
    assert downgrade_compat_headers(None) is None


def test_make_client_uses_the_compat_node() -> None:
    """Every client from make_client talks to Elasticsearch 8 and 9 servers alike."""
    client = make_client()
    nodes = client.transport.node_pool.all()
    assert nodes
    assert all(isinstance(node, Compat8HttpNode) for node in nodes)
