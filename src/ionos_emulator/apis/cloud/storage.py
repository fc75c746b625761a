"""Snapshots and images: volume create-snapshot and restore-snapshot, /snapshots, /images (public + private)."""

from __future__ import annotations

from ...engine.errors import ApiError, forbidden
from ...gateway.context import Ctx, Reply
from ...store import Row
from . import catalogue
from .compute import DATACENTER, VOLUME, handler
from .model import (
    Change,
    apply_props,
    catalogue_row,
    check_access,
    collection,
    deletion,
    full,
    key,
    load_chain,
    new_row,
    register_shareable,
    require,
    single,
    visible,
)
from .rules import fail

# what a snapshot and an image both say about the system on them: hot-plug capabilities, boot options, licence
SYSTEM_PROPERTIES = (
    "cpuHotPlug",
    "cpuHotUnplug",
    "ramHotPlug",
    "ramHotUnplug",
    "nicHotPlug",
    "nicHotUnplug",
    "discVirtioHotPlug",
    "discVirtioHotUnplug",
    "discScsiHotPlug",
    "discScsiHotUnplug",
    "exposeSerial",
    "requireLegacyBios",
    "licenceType",
    "applicationType",
)
SNAPSHOT_MUTABLE = ("name", "description", "secAuthProtection", *SYSTEM_PROPERTIES)


def update_snapshot(ctx: Ctx, row, props, replace, ch):
    apply_props(row, props, replace, mutable=SNAPSHOT_MUTABLE, immutable=("location", "size"))


SNAPSHOT = register_shareable("snapshot", "snapshot", "snapshots", "createSnapshot", update=update_snapshot)


@handler("datacentersVolumesCreate-snapshotPost")
def create_snapshot(ctx: Ctx) -> Reply:
    require(ctx, "createSnapshot", "creating a snapshot")
    dc, vol = load_chain(ctx, [(DATACENTER, "datacenterId"), (VOLUME, "volumeId")])
    p = ((ctx.body or {}).get("properties") or {}) if isinstance(ctx.body, dict) else {}
    hot = {k: vol.props[k] for k in SNAPSHOT_MUTABLE if k in vol.props}
    props = {
        **hot,
        "name": p.get("name") or f"{vol.props.get('name') or vol.id}-snapshot",
        "description": p.get("description", ""),
        "location": dc.props["location"],
        "size": float(vol.props["size"]),
        "secAuthProtection": bool(p.get("secAuthProtection", False)),
        "licenceType": p.get("licenceType") or vol.props.get("licenceType", "UNKNOWN"),
    }
    with Change(ctx, "snapshot", dc.id) as ch:
        snap = new_row(ctx, SNAPSHOT, None, props, scope="")
        ch.created(SNAPSHOT, snap)
        ch.updated(VOLUME, vol)
    return ch.accepted(full(ctx, SNAPSHOT, snap, ctx.depth))


@handler("datacentersVolumesRestore-snapshotPost")
def restore_snapshot(ctx: Ctx) -> Reply:
    dc, vol = load_chain(ctx, [(DATACENTER, "datacenterId"), (VOLUME, "volumeId")])
    body = ctx.body if isinstance(ctx.body, dict) else {}
    snap_id = (body.get("properties") or {}).get("snapshotId") or body.get("snapshotId") or ctx.q("snapshotId")
    snap = ctx.store.get(ctx.tenant, "snapshot", "", snap_id or "")
    if snap is None:
        raise ApiError(404, f"Resource does not exist: snapshot {snap_id}", "309")
    if snap.props.get("location") != dc.props["location"]:
        raise fail("The snapshot is in another location than the volume", vdc="VDC-9-15")
    if float(snap.props.get("size") or 0) > float(vol.props["size"]):
        raise fail("The snapshot is larger than the volume", vdc="VDC-9-16")
    with Change(ctx, "volume", dc.id) as ch:
        ch.updated(VOLUME, vol)
        ch.effect("props", key(vol), set={"image": snap.id, "licenceType": snap.props.get("licenceType", "UNKNOWN")})
    return ch.accepted(None)


# -- images: the public catalogue (never stored) plus the contract's private images -----------------


def update_image(ctx: Ctx, row, props, replace, ch):
    apply_props(
        row,
        props,
        replace,
        immutable=("location", "size", "imageType", "public"),
        mutable=("name", "description", *SYSTEM_PROPERTIES, "cloudInit", "imageAliases"),
    )


IMAGE = register_shareable("image", "image", "images", None, update=update_image)


def _image(ctx: Ctx) -> tuple[Row, bool]:
    img = catalogue.image(ctx.params["imageId"])
    if img is not None:
        return catalogue_row(ctx, IMAGE, img), True
    row = ctx.store.get(ctx.tenant, "image", "", ctx.params["imageId"])
    if row is None:
        raise ApiError(404, f"Resource does not exist: image {ctx.params['imageId']}", "309")
    check_access(ctx, row, write=ctx.method != "GET")
    return row, False


@handler("imagesGet")
def images(ctx: Ctx) -> Reply:
    rows = [catalogue_row(ctx, IMAGE, i) for i in catalogue.images()] + [
        r for r in ctx.store.list(ctx.tenant, "image", "") if visible(ctx, r)
    ]
    return Reply(200, collection(ctx, IMAGE, rows, "images", "images"))


@handler("imagesFindById")
def image(ctx: Ctx) -> Reply:
    return single(ctx, IMAGE, _image(ctx)[0])


def _private_only(ctx: Ctx) -> Row:
    row, public = _image(ctx)
    if public:
        raise forbidden("Access Denied: public images cannot be modified or deleted")
    return row


def _change_private_image(ctx: Ctx, replace: bool) -> Reply:
    """PATCH (replace=False) sends the properties themselves, PUT the whole image {"properties": {...}}."""
    row = _private_only(ctx)
    with Change(ctx, "image") as ch:
        props = ((ctx.body or {}).get("properties") or {}) if replace else (ctx.body or {})
        update_image(ctx, row, props, replace, ch)
        ch.updated(IMAGE, row)
    return ch.accepted(full(ctx, IMAGE, row, ctx.depth))


handler("imagesPatch")(lambda ctx: _change_private_image(ctx, replace=False))
handler("imagesPut")(lambda ctx: _change_private_image(ctx, replace=True))


handler("imagesDelete")(lambda ctx: deletion(ctx, IMAGE, _private_only(ctx)))
