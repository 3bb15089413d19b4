"""Structured JSON logs: structlog set-up, the event catalogue, redaction and loss-free shipping.

`configure()` once at start-up in every process; `emit()` catalogue events from call sites.
"""

from logshipping.config import add_secrets, configure, shipper_counts, shutdown
from logshipping.events import CATALOGUE, Action, CatalogueError, EventSpec, emit
from logshipping.settings import Settings

__all__ = [
    "CATALOGUE",
    "Action",
    "CatalogueError",
    "EventSpec",
    "Settings",
    "add_secrets",
    "configure",
    "emit",
    "shipper_counts",
    "shutdown",
]
