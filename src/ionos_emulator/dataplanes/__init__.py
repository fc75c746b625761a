"""Data planes: real network services behind the emulated control-plane APIs (e.g. the DNS server that
answers for the zones of the Cloud DNS API, the database servers behind DBaaS clusters)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from ..store import Row, Store

Outcome = Callable[[Row], None]  # writes what a data plane's work came to into the (current) row


def after_commit(store: Store, eff: dict[str, Any], row: Row, work: Callable[[], Outcome]) -> Callable[[], None]:
    """A data-plane effect's server calls, outside the write lock (the lifecycle's follow-up: run once the
    settle transaction has committed). Inside that transaction the cluster goes back to the state it showed
    while its change ran (`eff["busy"]`), so no client sees it ready before its server is; the follow-up runs
    `work()` (the calls, which never raise: a refusal is an outcome that marks the cluster FAILED), then
    writes the outcome and the state the change completed to, in a transaction of its own, unless a later
    change has taken the cluster over meanwhile. A server that hangs holds that one thread, nobody else."""
    final, attempt = row.meta.get("state"), uuid.uuid4().hex
    if eff.get("busy"):
        row.meta["state"] = eff["busy"]
    row.x["dataplaneAttempt"] = attempt
    store.update(row)
    where = (row.tenant, row.kind, row.parent, row.id)

    def follow_up() -> None:
        outcome = work()
        with store.tx():
            current = store.get(*where)
            if current is None or current.x.get("dataplaneAttempt") != attempt:
                return  # deleted, or changed again: the later change's effect decides
            del current.x["dataplaneAttempt"]
            current.meta["state"] = final
            outcome(current)
            store.update(current)

    return follow_up
