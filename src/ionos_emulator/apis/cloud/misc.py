"""Private Cross-Connects (PCCs), backup units and the GPUs of GPU servers."""

from __future__ import annotations

import re
import uuid

from ...gateway.context import Ctx, Reply
from ...store import Row
from . import catalogue
from .compute import DATACENTER, SERVER, handler
from .model import (
    Change,
    Kind,
    apply_props,
    check_access,
    computed_collection,
    load_chain,
    new_row,
    props_of,
    register_shareable,
    stored,
    visible,
)
from .network import LAN
from .rules import fail

# -- PCCs: LANs of different data centers joined by setting the LAN's `pcc` ------------------------------


def _connected_lans(ctx: Ctx, pcc_id: str) -> list[Row]:
    return [lan for lan in ctx.store.list(ctx.tenant, LAN.name) if lan.props.get("pcc") == pcc_id]


def _pcc_view(ctx: Ctx, row: Row) -> dict:
    """peers and connectableDatacenters are derived from the LANs that name this PCC."""
    dcs = {dc.id: dc for dc in ctx.store.list(ctx.tenant, DATACENTER.name, "")}
    peers = []
    for lan in _connected_lans(ctx, row.id):
        dc = dcs.get(lan.parent)
        if dc is not None:
            peers.append(
                {
                    "id": lan.id,
                    "name": lan.props.get("name", ""),
                    "datacenterId": dc.id,
                    "datacenterName": dc.props.get("name", ""),
                    "location": dc.props["location"],
                }
            )
    # once connected, only data centers in the location of the connected LANs can join
    locations = {p["location"] for p in peers}
    connectable = [
        {"id": dc.id, "name": dc.props.get("name", ""), "location": dc.props["location"]}
        for dc in dcs.values()
        if visible(ctx, dc) and (not locations or dc.props["location"] in locations)
    ]
    return {**row.props, "peers": peers, "connectableDatacenters": connectable}


def create_pcc(ctx: Ctx, parent, body, ch: Change):
    p = props_of(body)
    props = {"name": p.get("name", ""), "description": p.get("description", "")}
    return ch.created(PCC, new_row(ctx, PCC, None, props))


def update_pcc(ctx: Ctx, row, props, replace, ch):
    apply_props(row, props, replace, mutable=("name", "description"))


def delete_pcc(ctx: Ctx, row, ch):
    lans = _connected_lans(ctx, row.id)
    if lans:
        raise fail(
            f"The Cross Connect is still connected to {len(lans)} LAN(s) (LAN {lans[0].id} of data center "
            f"{lans[0].parent}); disconnect them first",
            "200",
            vdc="VDC-21-1",
        )


PCC = register_shareable(
    "pcc", "pcc", "pccs", "createPcc", create=create_pcc, update=update_pcc, delete=delete_pcc, view=_pcc_view
)


def _check_lan_pcc(ctx: Ctx, dc_id: str, lan_id: str | None, public: bool, pcc_id) -> None:
    """Rules for connecting a LAN: the PCC exists and is reachable, the LAN is private, one LAN per data
    center, and every connected LAN lives in the same location."""
    pcc = ctx.store.get(ctx.tenant, PCC.name, "", pcc_id)
    if pcc is None:
        raise fail(f"The Cross Connect '{pcc_id}' does not exist", vdc="VDC-21-2")
    check_access(ctx, pcc, write=True)
    if public:
        raise fail("A public LAN cannot be connected to a Cross Connect", vdc="VDC-21-3")
    dc = stored(ctx.store.get(ctx.tenant, DATACENTER.name, "", dc_id), f"data center {dc_id} of the LAN")
    for lan in _connected_lans(ctx, pcc_id):
        if lan.parent == dc_id and lan.id != lan_id:
            raise fail(f"LAN {lan.id} of this data center is already connected to the Cross Connect", vdc="VDC-21-4")
        other = ctx.store.get(ctx.tenant, DATACENTER.name, "", lan.parent)
        if other is not None and other.props["location"] != dc.props["location"]:
            raise fail(
                f"The Cross Connect connects LANs in {other.props['location']}; a LAN in "
                f"{dc.props['location']} cannot join it",
                vdc="VDC-21-5",
            )


def _extend_lan(create, update):
    """The LAN kind belongs to network; these rules only check and tidy its `pcc` property."""

    def create_lan(ctx: Ctx, dc, body, ch: Change):
        p = props_of(body)
        if p.get("pcc"):
            _check_lan_pcc(ctx, dc.id, None, bool(p.get("public", False)), p["pcc"])
        return create(ctx, dc, body, ch)

    def update_lan(ctx: Ctx, row, props, replace, ch: Change):
        if props.get("pcc"):
            _check_lan_pcc(ctx, row.parent, row.id, bool(props.get("public", row.props.get("public"))), props["pcc"])
        elif row.props.get("pcc") and "pcc" not in props and props.get("public"):
            raise fail("A LAN connected to a Cross Connect cannot be made public", vdc="VDC-21-3")
        update(ctx, row, props, replace, ch)
        if not row.props.get("pcc"):  # an empty pcc disconnects; not connected means no pcc at all
            row.props.pop("pcc", None)

    return create_lan, update_lan


LAN.create, LAN.update = _extend_lan(LAN.create, LAN.update)


# -- backup units ---------------------------------------------------------------------------------------

BACKUP_NAME = re.compile(r"[A-Za-z0-9]+")


def _check_email(p: dict) -> None:
    if "email" in p and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", str(p["email"] or "")):
        raise fail("attribute 'properties.email' must be an e-mail address", vdc="VDC-22-3")


def create_backup_unit(ctx: Ctx, parent, body, ch: Change):
    p = props_of(body)
    name = p.get("name", "")
    if not BACKUP_NAME.fullmatch(name):
        raise fail("attribute 'properties.name' may only hold letters and digits", vdc="VDC-22-1")
    # the name is appended to the contract number to form a login name
    if any(b.props["name"].lower() == name.lower() for b in ctx.store.list(ctx.tenant, BACKUP_UNIT.name, "")):
        raise fail(f"A backup unit named '{name}' already exists in this contract", vdc="VDC-22-2")
    for attr in ("password", "email"):
        if not p.get(attr):
            raise fail(f"attribute 'properties.{attr}' is required", vdc="VDC-1-2")
    _check_email(p)
    row = new_row(ctx, BACKUP_UNIT, None, {"name": name, "email": p["email"]})
    row.x["password"] = p["password"]  # write-only, never rendered
    return ch.created(BACKUP_UNIT, row)


def update_backup_unit(ctx: Ctx, row, props, replace, ch):
    _check_email(props)
    if props.get("password"):
        row.x["password"] = props["password"]
    # PUT keeps what it does not mention: a unit always has its e-mail and password
    apply_props(
        row,
        {k: v for k, v in props.items() if k != "password" and v is not None},
        replace,
        mutable=("email",),
        immutable=("name",),
    )


BACKUP_UNIT = register_shareable(
    "backupunit", "backupunit", "backupunits", "createBackupUnit", create=create_backup_unit, update=update_backup_unit
)


@handler("backupunitsSsourlGet")
def backup_unit_sso(ctx: Ctx) -> Reply:
    (unit,) = load_chain(ctx, [(BACKUP_UNIT, "backupunitId")])
    return Reply(200, {"ssoUrl": f"{ctx.base_url}/_emulator/backup/{unit.id}/sso?token={unit.meta.get('etag')}"})


# -- GPUs: a GPU server has the cards its template lists; other servers have none --------------------------

GPU = Kind("gpu", "gpu", "gpus", parent="server")


def gpu_rows(ctx: Ctx, server: Row) -> list[Row]:
    if server.props.get("type") != "GPU":
        return []
    tpl = catalogue.template(server.props.get("templateUuid") or "")
    cards = [c for c in ((tpl or {}).get("properties") or {}).get("gpus") or [] for _ in range(int(c.get("count", 1)))]
    rows = []
    for n, card in enumerate(cards):
        gid = str(uuid.uuid5(uuid.UUID(server.id), f"gpu-{n}"))  # stable for the server's lifetime
        rows.append(
            Row(
                tenant=server.tenant,
                kind=GPU.name,
                id=gid,
                parent=server.id,
                scope=server.scope,
                path=f"{server.path}/gpus/{gid}",
                doc={
                    "metadata": {**server.meta, "etag": gid.replace("-", "")},
                    "properties": {
                        "name": f"{card.get('vendor', '')} {card.get('model', '')}".strip(),
                        "vendor": card.get("vendor", ""),
                        "model": card.get("model", ""),
                        "type": card.get("type", "passthrough"),
                    },
                },
            )
        )
    return rows


server_gpus, server_gpu = computed_collection(
    GPU, [(DATACENTER, "datacenterId"), (SERVER, "serverId")], gpu_rows, "gpuId", "of server"
)
handler("datacentersServersGPUsGet")(server_gpus)
handler("datacentersServersGPUsFindById")(server_gpu)


SERVER.entity_rows["gpus"] = lambda ctx, server: (GPU, gpu_rows(ctx, server))
