"""What a contract has, metered: each billable resource with its lifetime (from its creation to its deletion,
or still running) and what it uses per hour on each billing meter (catalogue/billing.json). The Billing and
Quota APIs read it; the lifetimes of deleted resources are kept when their delete completes (engine
lifecycle's RETIRING), so usage over a month counts what existed during it.

Sizes are the resource's last ones over its whole lifetime. A server accrues no cores or RAM while it is stopped
(the docs: a stopped VM frees its cores and RAM, its storage stays): its stops and starts are read from the
request records of the completed actions that changed its vmState."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ..catalogue import load
from ..engine.lifecycle import RETIRING
from ..store import Row, Store

HOUR = 3600.0
PRICES: dict[str, dict[str, Any]] = load("billing")["meters"]


@dataclass
class Metered:
    kind: str  # the stored kind ("server", "postgresql-v1.cluster")
    id: str
    name: str
    type: str  # the Billing API's ResourceType (SERVER, STORAGE, IP, SNAPSHOT, DBAAS, NATGATEWAY, LOADBALANCER)
    datacenter: str  # the data center it lives in ("" for what the contract holds outside one)
    location: str
    datacenter_name: str
    start: float
    end: float | None = None  # None: it still exists
    meters: dict[str, float] = field(default_factory=dict)  # meter id -> units per hour
    server: str | None = None  # the server a metered part belongs to
    off: list[list[float | None]] = field(default_factory=list)  # [from, until or None]: a server stopped

    def hours(self, meter: str, start: float, end: float) -> float:
        """Hours of this meter inside [start, end) (for cores and RAM, less the time the server was stopped)."""
        lo, hi = max(self.start, start), min(self.end if self.end is not None else end, end)
        seconds = max(0.0, hi - lo)
        if meter in CPU_RAM:
            for a, b in self.off:
                seconds -= max(0.0, min(hi, b if b is not None else hi) - max(lo, a or 0.0))
        return max(0.0, seconds) / HOUR

    def quantity(self, meter: str, start: float, end: float) -> float:
        return self.meters[meter] * self.hours(meter, start, end)


CPU_RAM = {"C01000", "C02000", "R01000"}
STORAGE = {"HDD": "S01000", "SSD": "S02000", "SSD Premium": "S02000", "SSD Standard": "S03000", "DAS": "S02000"}
DB_STORAGE = {"HDD": "DBPGS1000", "SSD": "DBPGS3000", "SSD Premium": "DBPGS3000", "SSD Standard": "DBPGS2000"}
# DBaaS cluster kinds: (meters for cores, RAM and storage; RAM and storage in MB rather than GB; storage in MB)
DBAAS = {
    "postgresql-v1.cluster": ("DBPGC1000", "DBPGR1000", None, "MB", "MB"),
    "postgresql.cluster": ("DBPGC1000", "DBPGR1000", None, "GB", "GB"),
    "mongodb.cluster": ("DBMEC1000", "DBMER1000", "DBMES1000", "MB", "GB"),
    "mariadb-v1.cluster": ("DBMAC1000", "DBMAR1000", "DBMAS2000", "GB", "GB"),
    "mariadb.cluster": ("DBMAC1000", "DBMAR1000", "DBMAS2000", "GB", "GB"),
    "inmemorydb-v1.cluster": ("DBIMC1000", "DBIMR1000", "DBIMS3000", "GB", "GB"),
    "inmemorydb.cluster": ("DBIMC1000", "DBIMR1000", "DBIMS3000", "GB", "GB"),
}
FLAT = {"natgateway": ("NAT1000", "NATGATEWAY"), "networkloadbalancer": ("NLB1000", "LOADBALANCER")}
FLAT["applicationloadbalancer"] = ("ALB1000", "LOADBALANCER")
KINDS = ("server", "volume", "ipblock", "snapshot", "nodepool", *FLAT, *DBAAS)


def _when(text: Any) -> float:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _gb(value: Any, unit: str) -> float:
    return float(value or 0) / (1024.0 if unit == "MB" else 1.0)


def _core(cpu_family: Any) -> str:
    return "C01000" if str(cpu_family or "AMD").upper().startswith("AMD") else "C02000"


def _dc_of(row: Row) -> str:
    p = row.props
    conns = p.get("connections") or ([p["connection"]] if isinstance(p.get("connection"), dict) else [])
    for c in conns:
        if isinstance(c, dict) and c.get("datacenterId"):
            return str(c["datacenterId"])
    if p.get("datacenterId"):
        return str(p["datacenterId"])
    parts = row.path.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "datacenters" else ""


OFF = ("SHUTOFF", "SUSPENDED")  # a stopped server, a suspended Cube


def power_history(store: Store, tenant: int) -> dict[str, list[tuple[float, str]]]:
    """Server id -> (when, vmState) of each completed change of its vmState (start, stop, suspend, resume)."""
    out: dict[str, list[tuple[float, str]]] = {}
    for req in store.list_requests(tenant):
        if req["state"] != "DONE":
            continue
        for eff in req.get("effects") or ():
            state = (eff.get("set") or {}).get("vmState") if eff.get("op") == "props" else None
            if state and eff.get("kind") == "server":
                out.setdefault(eff["id"], []).append((float(req["done_at"]), str(state)))
    return out


def off_intervals(changes: list[tuple[float, str]]) -> list[list[float | None]]:
    out: list[list[float | None]] = []
    since: float | None = None
    for when, state in sorted(changes):
        if state in OFF and since is None:
            since = when
        elif state not in OFF and since is not None:
            out.append([since, when])
            since = None
    if since is not None:
        out.append([since, None])
    return out


def metered(store: Store, row: Row, history: dict[str, list[tuple[float, str]]] | None = None) -> Metered | None:
    """The row as billing meters it, or None for what is not billed (`history`: power_history, read once)."""
    p, kind = row.props, row.kind
    name = str(p.get("name") or p.get("displayName") or row.id)
    start = _when(row.meta.get("createdDate"))
    m = Metered(kind, row.id, name, "SERVER", _dc_of(row), str(p.get("location") or ""), "", start)
    if kind == "server":
        m.meters = {_core(p.get("cpuFamily")): float(p.get("cores") or 0), "R01000": _gb(p.get("ram"), "MB")}
        m.server = row.id
        m.off = off_intervals((power_history(store, row.tenant) if history is None else history).get(row.id, []))
    elif kind == "volume":
        m.type, m.meters = "STORAGE", {STORAGE.get(str(p.get("type")), "S01000"): float(p.get("size") or 0)}
    elif kind == "ipblock":
        m.type, m.meters = "IP", {"A01000": float(p.get("size") or 0)}
    elif kind == "snapshot":
        m.type, m.meters = "SNAPSHOT", {"S05000": float(p.get("size") or 0)}
    elif kind == "nodepool":  # Kubernetes nodes are servers and volumes like any other
        n = float(p.get("nodeCount") or 0)
        storage = STORAGE.get(str(p.get("storageType")), "S01000")
        m.meters = {
            _core(p.get("cpuFamily")): n * float(p.get("coresCount") or 0),
            "R01000": n * _gb(p.get("ramSize"), "MB"),
            storage: n * float(p.get("storageSize") or 0),
        }
    elif kind in FLAT:
        meter, m.type = FLAT[kind]
        m.meters = {meter: 1.0}
    elif kind in DBAAS:
        core, ram, storage_meter, ram_unit, storage_unit = DBAAS[kind]
        count, cores, ram_gb, storage_gb = dbaas_size(p, ram_unit, storage_unit)
        m.type = "DBAAS"
        storage = storage_meter or DB_STORAGE.get(str(p.get("storageType")), "DBPGS2000")
        m.meters = {core: count * cores, ram: count * ram_gb, storage: count * storage_gb}
    else:
        return None
    dc = store.get(row.tenant, "datacenter", "", m.datacenter) if m.datacenter else None
    if dc is not None:
        m.location = m.location or str(dc.props.get("location") or "")
        m.datacenter_name = str(dc.props.get("name") or "")
    return m


def dbaas_size(p: dict, ram_unit: str, storage_unit: str) -> tuple[float, float, float, float]:
    """(instances, cores, RAM GB, storage GB) of one DBaaS cluster of any generation."""
    inst = p.get("instances")
    if isinstance(inst, dict):  # the regional generations: {count, cores, ram, storageSize} in GB
        ram = float(inst.get("ram") or 0)
        return float(inst.get("count") or 1), float(inst.get("cores") or 0), ram, float(inst.get("storageSize") or ram)
    size = dict(p)
    if p.get("templateID"):  # MongoDB's playground and business editions are sized by a template
        from .mongodb.catalogue import TEMPLATES_BY_ID

        size.update((TEMPLATES_BY_ID.get(p["templateID"]) or {}).get("properties") or {})
    count = float(inst or 1)
    return (
        count,
        float(size.get("cores") or 0),
        _gb(size.get("ram"), ram_unit),
        _gb(size.get("storageSize"), storage_unit),
    )


def resources(store: Store, tenant: int) -> list[Metered]:
    """Every billable resource the contract has or had, oldest first."""
    history = power_history(store, tenant)
    live = [m for kind in KINDS for r in store.list(tenant, kind) if (m := metered(store, r, history)) is not None]
    known = set(Metered.__dataclass_fields__)
    gone = [Metered(**{k: x for k, x in v.items() if k in known}) for _, v in store.kv_prefix(f"metered:{tenant}:")]
    return sorted(gone + live, key=lambda m: (m.start, m.id))


def retire(store: Store, row: Row, ts: float) -> None:
    """Keep the lifetime of every metered resource at or below a row whose delete completes."""
    below = row.path + "/"
    history: dict[str, list[tuple[float, str]]] | None = None
    for kind in KINDS:
        for r in store.list(row.tenant, kind):
            if r.path == row.path or r.path.startswith(below):
                if history is None:
                    history = power_history(store, row.tenant)
                m = metered(store, r, history)
                if m is not None:
                    m.end = ts
                    store.kv_set(f"metered:{row.tenant}:{m.start:017.6f}:{m.id}", asdict(m))


if retire not in RETIRING:
    RETIRING.append(retire)
