"""A throw-away PKI for the TLS tests: the product's own issuer (`elk.certs`), short-lived."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from elk.certs import Authority as _Authority
from elk.certs import CertFiles

__all__ = ["Authority", "CertFiles"]


class Authority:
    """A CA for one test, issuing one-day certificates (server certificates for 127.0.0.1)."""

    @staticmethod
    def create(directory: Path, name: str) -> _Authority:
        """A new CA whose files go to `directory`."""
        return _Authority.create(directory, name, lifetime=dt.timedelta(days=1))
