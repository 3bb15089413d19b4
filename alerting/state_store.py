"""Alert state in an Elasticsearch index, written with optimistic concurrency.

Two kinds of documents, both read with real-time GETs (never a search, which could miss a write
not yet refreshed):

- `alert:<rule>:<digest of group>`: an `AlertState` (status, severity, pending Slack deliveries...)
  at the top level of `_source`, plus `kind: alert` (the operator tools read these);
- `rule:<rule>`: the rule's cursor (`evaluated_up_to`) and the groups still active (`kind: rule`).

The operator tools (`amf1 health | report | demo`) list the alert states with `read_alerts`,
through the same model.

Every write carries `if_seq_no`/`if_primary_term` of the version read (or `op_type=create`), so
of two watchers applying the same transition exactly one wins; the loser gets `StateConflictError`,
re-reads and finds nothing left to do.

A document that no longer fits its model (edited by hand, written by another version) is set
aside: copied, as a JSON string, to `<index>-quarantine`, deleted from the ledger (at the version
read) and reported through `on_set_aside`; the (rule, group) starts afresh instead of failing on
every cycle.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError, TransportError
from pydantic import BaseModel, Field, ValidationError

from alerting.errors import BackendUnavailableError, StateConflictError
from alerting.state_machine import AlertState

M = TypeVar("M", bound=BaseModel)

_MAPPINGS = {"dynamic": False, "properties": {"kind": {"type": "keyword"}}}
_MAX_LISTED = 1000


class RuleCursor(BaseModel):
    """How far a rule has been evaluated, and which of its groups still need visits."""

    rule: str
    evaluated_up_to: datetime | None = None
    active_groups: list[str] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Versioned(Generic[M]):
    """A document and the version it was read at (None: it does not exist yet)."""

    doc: M
    seq_no: int | None = None
    primary_term: int | None = None


def alert_id(rule: str, group: str) -> str:
    # Group values are arbitrary field values; a digest keeps the _id short and safe.
    digest = hashlib.sha256(group.encode("utf-8")).hexdigest()[:24]
    return f"alert:{rule}:{digest}"


def _unavailable(exc: Exception) -> BackendUnavailableError:
    return BackendUnavailableError(f"state store: {type(exc).__name__}: {exc}")


def _parse(source: dict[str, Any], model: type[M]) -> M:
    # `kind` only tells the two document types apart in the index; it is not part of the model.
    return model.model_validate({k: v for k, v in source.items() if k != "kind"})


class StateStore:
    """Read and write watcher state in one index.

    Args:
        on_set_aside: called with (document id, quarantine index) when a malformed document
            was set aside.
    """

    def __init__(
        self,
        es: Elasticsearch,
        index: str,
        on_set_aside: Callable[[str, str], None] | None = None,
    ) -> None:
        self._es = es
        self._index = index
        self._on_set_aside = on_set_aside

    @property
    def quarantine_index(self) -> str:
        return f"{self._index}-quarantine"

    def ensure_index(self) -> None:
        """Create the state index if missing (one shard; replicas auto-expand on a cluster)."""
        try:
            if not self._es.indices.exists(index=self._index):
                self._es.indices.create(
                    index=self._index,
                    settings={"number_of_shards": 1, "auto_expand_replicas": "0-1"},
                    mappings=_MAPPINGS,
                )
        except ApiError as exc:
            if getattr(exc, "error", "") != "resource_already_exists_exception":
                raise _unavailable(exc) from exc
        except TransportError as exc:
            raise _unavailable(exc) from exc

    def _get(self, doc_id: str, model: type[M], default: M) -> Versioned[M]:
        try:
            response = self._es.get(index=self._index, id=doc_id)
        except NotFoundError:
            return Versioned(default)
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        try:
            doc = _parse(response["_source"], model)
        except ValidationError:
            self._set_aside(doc_id, dict(response))
            return Versioned(default)
        return Versioned(doc, response["_seq_no"], response["_primary_term"])

    def _set_aside(self, doc_id: str, response: dict[str, Any]) -> None:
        """Copy a malformed document to the quarantine index and delete it (at that version)."""
        record = {
            "state_index": self._index,
            "state_id": doc_id,
            "set_aside_at": datetime.now(UTC).isoformat(),
            "source": json.dumps(response["_source"], default=str),
        }
        try:
            self._es.index(
                index=self.quarantine_index,
                id=f"{doc_id}@{response['_primary_term']}.{response['_seq_no']}",
                document=record,
            )
            self._es.delete(
                index=self._index,
                id=doc_id,
                if_seq_no=response["_seq_no"],
                if_primary_term=response["_primary_term"],
            )
        except ConflictError:
            return  # rewritten meanwhile: the next read sees the new version
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        if self._on_set_aside is not None:
            self._on_set_aside(doc_id, self.quarantine_index)

    def _put(self, doc_id: str, current: Versioned[M], doc: M, kind: str) -> Versioned[M]:
        body: dict[str, Any] = {"kind": kind, **doc.model_dump(mode="json")}
        try:
            if current.seq_no is None:
                response = self._es.index(
                    index=self._index, id=doc_id, document=body, op_type="create"
                )
            else:
                response = self._es.index(
                    index=self._index,
                    id=doc_id,
                    document=body,
                    if_seq_no=current.seq_no,
                    if_primary_term=current.primary_term,
                )
        except ConflictError as exc:
            raise StateConflictError(doc_id) from exc
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        return Versioned(doc, response["_seq_no"], response["_primary_term"])

    def get_alert(self, rule: str, group: str) -> Versioned[AlertState]:
        return self._get(alert_id(rule, group), AlertState, AlertState(rule=rule, group=group))

    def put_alert(self, current: Versioned[AlertState], doc: AlertState) -> Versioned[AlertState]:
        """Write `doc` over the version `current` was read at; raises `StateConflictError`."""
        return self._put(alert_id(doc.rule, doc.group), current, doc, "alert")

    def get_cursor(self, rule: str) -> Versioned[RuleCursor]:
        return self._get(f"rule:{rule}", RuleCursor, RuleCursor(rule=rule))

    def put_cursor(self, current: Versioned[RuleCursor], doc: RuleCursor) -> Versioned[RuleCursor]:
        return self._put(f"rule:{doc.rule}", current, doc, "rule")

    def read_alerts(self, limit: int = _MAX_LISTED) -> list[AlertState] | None:
        """Every alert state of the index (at most `limit`); None when the index does not exist.

        A search, not real-time GETs: a write not yet refreshed may be missing, which is fine for
        a report and never used to decide a transition.

        Raises:
            BackendUnavailableError: Elasticsearch cannot be reached or refuses the search.
        """
        try:
            response = self._es.search(
                index=self._index, size=limit, query={"term": {"kind": "alert"}}
            )
        except NotFoundError:
            return None
        except (ApiError, TransportError) as exc:
            raise _unavailable(exc) from exc
        states = []
        for hit in response["hits"]["hits"]:
            try:
                states.append(_parse(hit["_source"], AlertState))
            except ValidationError:
                continue  # the watcher sets it aside when it next reads it
        return states
