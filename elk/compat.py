"""REST-compatibility shim between the 9.x Python client and an Elasticsearch 8 or 9 server.

The `elasticsearch` 9 client stamps every request `compatible-with=9`, which an 8.x server
rejects (HTTP 400 `media_type_header_exception`). Elasticsearch's REST compatibility works one
major back, so asking for `compatible-with=8` is understood by 8.x natively and by 9.x in
compatibility mode. The native stack runs 8.19 (the newest distribution on Maven Central), the
Docker stack may run 9.x: this node class lets one client talk to both.
"""

from __future__ import annotations

from elastic_transport import HttpHeaders, Urllib3HttpNode
from elastic_transport._node import NodeApiResponse
from elastic_transport.client_utils import DEFAULT, DefaultType

COMPAT_MAJOR = 8
_CLIENT_MARK = "compatible-with=9"
_SERVER_MARK = f"compatible-with={COMPAT_MAJOR}"


def downgrade_compat_headers(headers: HttpHeaders | None) -> HttpHeaders | None:
    """Return `headers` with every `compatible-with=9` media type asking for 8 instead."""
    if not headers:
        return headers
    return HttpHeaders(
        {name: value.replace(_CLIENT_MARK, _SERVER_MARK) for name, value in headers.items()}
    )


class Compat8HttpNode(Urllib3HttpNode):
    """The default urllib3 node, sending the media types an 8.x server accepts."""

    def perform_request(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: HttpHeaders | None = None,
        request_timeout: DefaultType | float | None = DEFAULT,
    ) -> NodeApiResponse:
        return super().perform_request(
            method,
            target,
            body=body,
            headers=downgrade_compat_headers(headers),
            request_timeout=request_timeout,
        )
