"""Settings of the logging and shipping set-up (environment variables with the `AMF1_` prefix)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from logshipping.settings_base import AMF1Settings
from logshipping.settings_groups import CacheDir, LogPipeline, ServiceIdentity
from logshipping.shipping.transport import TlsOptions

LevelName = Literal["debug", "info", "warning", "error", "critical"]


class Settings(AMF1Settings, ServiceIdentity, CacheDir, LogPipeline):
    """Every knob of `logshipping.configure`; explicit arguments beat the environment."""

    log_dataset: str = Field(
        "amf1.service", description="ECS `event.dataset` (amf1.service, amf1.watcher, amf1.cli)."
    )
    log_level: LevelName = Field("info", description="Lowest level written and shipped.")
    log_render_delay_ms: float = Field(
        5.0,
        ge=0,
        le=1000,
        description="Info events emitted on an event loop are processed and written in "
        "batches, at most this long after they happened (less CPU a request: docs/logging.md); "
        "0 writes each at once. Warnings and errors are never held back.",
    )
    log_strict: bool = Field(
        False,
        description="Raise on a catalogue event missing a required field (tests); otherwise the "
        "event is shipped with `amf1.log.missing_fields` listing what is missing.",
    )
    log_ship: bool = Field(True, description="Ship events to the pipeline over TCP.")
    log_buffer_dir: Path | None = Field(
        None, description="Directory of the per-process buffers (default: CACHE_DIR/log-buffer)."
    )
    log_buffer_max_events: int = Field(
        200_000, ge=10, description="Most events kept in one process's SQLite buffer."
    )
    log_buffer_max_bytes: int = Field(
        256 << 20,
        ge=1 << 20,
        description="Most bytes of events (their JSON lines) kept in one process's SQLite "
        "buffer; beyond it, or beyond the event count, the lowest levels go first (counted in "
        "`shipper-dropped`).",
    )
    log_buffer_max_age_s: float = Field(
        7 * 24 * 3600.0, gt=0, description="Events older than this are dropped from the buffer."
    )
    log_batch_size: int = Field(2000, ge=1, description="Most events sent in one TCP write.")
    log_poll_interval_s: float = Field(
        0.1,
        gt=0,
        description=(
            "How often the shipper sends the journal's new events (the most it adds to their lag)."
        ),
    )
    log_retry_max_s: float = Field(
        2.0, gt=0, description="Longest wait between reconnects to a dead receiver."
    )
    log_connect_timeout_s: float = Field(2.0, gt=0, description="TCP connect/send timeout.")
    log_shutdown_timeout_s: float = Field(
        5.0, gt=0, description="Longest time a graceful shutdown spends flushing."
    )
    log_journal_segment_bytes: int = Field(
        4 << 20, ge=1 << 16, description="Size of one memory-mapped journal segment file."
    )
    log_journal_max_bytes: int = Field(
        256 << 20,
        ge=1 << 20,
        description="Unconsumed journal beyond this is dropped (only if the shipper thread died).",
    )

    log_tls_enabled: bool = Field(
        False,
        description="Ship over TLS (the pipeline's TCP input must listen with TLS: "
        "docs/pipeline.md).",
    )
    log_tls_ca_file: Path | None = Field(
        None,
        description="CA certificate (PEM) that signed the pipeline's certificate; unset: the "
        "system's trust store.",
    )
    log_tls_cert_file: Path | None = Field(
        None,
        description="This process's client certificate (PEM), for a pipeline that requires "
        "one (mutual TLS).",
    )
    log_tls_key_file: Path | None = Field(
        None,
        description="Path of the client certificate's private key (PEM; only the TLS library "
        "reads it). Keep it mode 0600.",
    )
    log_tls_verify: bool = Field(
        True,
        description="Verify the pipeline's certificate against AMF1_LOG_TLS_CA_FILE (the "
        "library checks the chain, not the host name); off is refused in staging and production.",
    )

    @model_validator(mode="after")
    def _check_tls(self) -> Settings:
        if (self.log_tls_cert_file is None) != (self.log_tls_key_file is None):
            raise ValueError(
                "AMF1_LOG_TLS_CERT_FILE and AMF1_LOG_TLS_KEY_FILE go together: set both or neither"
            )
        if (
            self.log_tls_enabled
            and not self.log_tls_verify
            and self.environment
            in (
                "staging",
                "production",
            )
        ):
            raise ValueError(f"AMF1_LOG_TLS_VERIFY=false is refused in {self.environment}")
        return self

    @property
    def tls(self) -> TlsOptions | None:
        """The shipper's TLS options, or None for plain TCP."""
        if not self.log_tls_enabled:
            return None
        return TlsOptions(
            ca_file=self.log_tls_ca_file,
            cert_file=self.log_tls_cert_file,
            key_file=self.log_tls_key_file,
            verify=self.log_tls_verify,
        )

    @property
    def buffer_dir(self) -> Path:
        """Where the per-process SQLite buffers and journals live."""
        return self.log_buffer_dir or self.cache_dir / "log-buffer"
