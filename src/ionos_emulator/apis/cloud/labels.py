"""Labels: key/value pairs on data centers, servers, volumes, IP blocks, images and snapshots.

Label calls are synchronous (no request, no Location; api-behaviour.md §2.1). A label is a row below its
resource's path, so it disappears with the resource; its id is the key, unique per resource. The global
/labels view names each label by `urn:label:<resource type>:<resource id>:<key>`.
"""

from __future__ import annotations

from urllib.parse import quote

from ...engine.errors import ApiError, not_found
from ...engine.resources import Steps
from ...gateway.context import Ctx, Reply
from ...store import Row
from . import catalogue
from .compute import DATACENTER, SERVER, VOLUME, handler
from .model import Kind, check_access, collection, load_chain, new_row, props_of, single, stamp, visible
from .network import IPBLOCK
from .rules import fail
from .storage import IMAGE, SNAPSHOT

LABEL = Kind("label", "label", "labels")  # on a resource (LabelResources pages)
GLOBAL_LABEL = Kind("globallabel", "label", "labels", paginated=False)  # the contract-wide /labels view

# resource type -> (operationId prefix, how its path parameters lead to it)
LABELLED: dict[str, tuple[str, Steps | None]] = {
    "datacenter": ("datacentersLabels", [(DATACENTER, "datacenterId")]),
    "server": ("datacentersServersLabels", [(DATACENTER, "datacenterId"), (SERVER, "serverId")]),
    "volume": ("datacentersVolumesLabels", [(DATACENTER, "datacenterId"), (VOLUME, "volumeId")]),
    "ipblock": ("ipblocksLabels", [(IPBLOCK, "ipblockId")]),
    "snapshot": ("snapshotsLabels", [(SNAPSHOT, "snapshotId")]),
    "image": ("imagesLabels", None),
}


def _resource(ctx: Ctx, rtype: str) -> tuple[Row, Row | None]:
    """(the labelled resource, the top-level row whose access rules cover it; None for a public image)."""
    steps = LABELLED[rtype][1]
    if steps is not None:
        chain = load_chain(ctx, steps)
        return chain[-1], chain[0]
    image_id = ctx.params["imageId"]
    public = catalogue.image(image_id)
    if public is not None:
        return Row(tenant=ctx.tenant, kind="image", id=image_id, path=f"images/{image_id}"), None
    row = ctx.store.get(ctx.tenant, IMAGE.name, "", image_id)
    if row is None:
        raise not_found(f"Resource does not exist: image {image_id}")
    check_access(ctx, row, write=ctx.method != "GET")
    return row, row


def _writable(rtype: str, top: Row | None) -> None:
    if rtype == "image" and top is None:
        raise fail("Labels can only be set on private images", vdc="VDC-40-3")


def _label_path(resource: Row, key: str) -> str:
    return f"{resource.path}/labels/{quote(key, safe='')}"


def _load_label(ctx: Ctx, resource: Row, key: str) -> Row:
    row = ctx.store.get(ctx.tenant, LABEL.name, resource.id, key)
    if row is None:
        raise not_found(f"Resource does not exist: label '{key}' of {resource.kind} {resource.id}")
    return row


def _body_props(ctx: Ctx) -> dict:
    p = props_of(ctx.body)
    for attr in ("key", "value"):
        if not isinstance(p.get(attr), str) or not p[attr]:
            raise fail(f"attribute 'properties.{attr}' is required", vdc="VDC-40-1")
    return p


def _new_label(ctx: Ctx, rtype: str, resource: Row, top: Row | None, key: str, value: str) -> Row:
    row = new_row(ctx, LABEL, None, {"key": key, "value": value}, id=key, scope=resource.scope)
    row.parent, row.path = resource.id, _label_path(resource, key)
    row.meta.pop("state")  # labels carry no state
    row.x.update(
        resourceType=rtype,
        resourceId=resource.id,
        resourcePath=resource.path,
        topKind=top.kind if top else "",
        topParent=top.parent if top else "",
        topId=top.id if top else "",
    )
    return row


def _list(rtype: str):
    def list_labels(ctx: Ctx) -> Reply:
        resource, _ = _resource(ctx, rtype)
        rows = ctx.store.list(ctx.tenant, LABEL.name, resource.id)
        return Reply(200, collection(ctx, LABEL, rows, f"{resource.path}/labels", f"{resource.id}/labels"))

    return list_labels


def _get(rtype: str):
    def get_label(ctx: Ctx) -> Reply:
        resource, _ = _resource(ctx, rtype)
        return single(ctx, LABEL, _load_label(ctx, resource, ctx.params["key"]))

    return get_label


def _create(rtype: str):
    def create_label(ctx: Ctx) -> Reply:
        resource, top = _resource(ctx, rtype)
        _writable(rtype, top)
        p = _body_props(ctx)
        if ctx.store.get(ctx.tenant, LABEL.name, resource.id, p["key"]) is not None:
            raise fail(f"The {rtype} already has a label with the key '{p['key']}'", vdc="VDC-40-2")
        row = _new_label(ctx, rtype, resource, top, p["key"], p["value"])
        with ctx.store.tx():
            ctx.store.insert(row)
        return single(ctx, LABEL, row, status=201)

    return create_label


def _put(rtype: str):
    def put_label(ctx: Ctx) -> Reply:
        resource, top = _resource(ctx, rtype)
        _writable(rtype, top)
        key = ctx.params["key"]
        row = _load_label(ctx, resource, key)
        p = props_of(ctx.body)
        if p.get("key") not in (None, key):
            raise fail(f"The key of a label cannot be changed ('{key}' to '{p['key']}')", vdc="VDC-40-4")
        if not isinstance(p.get("value"), str) or not p["value"]:
            raise fail("attribute 'properties.value' is required", vdc="VDC-40-1")
        row.props["value"] = p["value"]
        stamp(ctx, row)
        with ctx.store.tx():
            ctx.store.update(row)
        return single(ctx, LABEL, row)

    return put_label


def _delete(rtype: str):
    def delete_label(ctx: Ctx) -> Reply:
        resource, top = _resource(ctx, rtype)
        _writable(rtype, top)
        row = _load_label(ctx, resource, ctx.params["key"])
        with ctx.store.tx():
            ctx.store.delete_tree(row)
        return Reply(200, None)

    return delete_label


for _rtype, (_prefix, _) in LABELLED.items():
    for _suffix, _make in (("Get", _list), ("FindByKey", _get), ("Post", _create), ("Put", _put), ("Delete", _delete)):
        handler(_prefix + _suffix)(_make(_rtype))


# -- the contract-wide view ---------------------------------------------------------------------------


def urn(row: Row) -> str:
    return f"urn:label:{row.x['resourceType']}:{row.x['resourceId']}:{row.props['key']}"


def _global_row(ctx: Ctx, row: Row) -> Row:
    props = {
        **row.props,
        "resourceId": row.x["resourceId"],
        "resourceType": row.x["resourceType"],
        "resourceHref": ctx.href(row.x["resourcePath"]),
    }
    return Row(
        tenant=row.tenant,
        kind=GLOBAL_LABEL.name,
        id=urn(row),
        path=f"labels/{quote(urn(row), safe=':')}",
        doc={"properties": props, "metadata": row.meta},
    )


def _reachable(ctx: Ctx, row: Row) -> bool:
    if ctx.principal.admin or not row.x.get("topKind"):
        return True
    top = ctx.store.get(ctx.tenant, row.x["topKind"], row.x["topParent"], row.x["topId"])
    return top is not None and visible(ctx, top)


@handler("labelsGet")
def all_labels(ctx: Ctx) -> Reply:
    rows = [_global_row(ctx, r) for r in ctx.store.list(ctx.tenant, LABEL.name) if _reachable(ctx, r)]
    return Reply(200, collection(ctx, GLOBAL_LABEL, rows, "labels", "labels"))


@handler("labelsFindByUrn")
def label_by_urn(ctx: Ctx) -> Reply:
    parts = ctx.params["labelurn"].split(":", 4)
    if len(parts) != 5 or parts[:2] != ["urn", "label"] or parts[2] not in LABELLED:
        raise ApiError(404, f"Resource does not exist: '{ctx.params['labelurn']}' is not a label URN", "309")
    _, _, rtype, resource_id, key = parts
    row = ctx.store.get(ctx.tenant, LABEL.name, resource_id, key)
    if row is None or row.x.get("resourceType") != rtype or not _reachable(ctx, row):
        raise not_found(f"Resource does not exist: label {ctx.params['labelurn']}")
    return single(ctx, GLOBAL_LABEL, _global_row(ctx, row))
