"""VM Auto Scaling (API 1.0.0 at api.ionos.com/autoscaling, SDK ionoscloud-vm-autoscaling 2.0.0): groups of
identical servers in a Cloud API data center, made from the group's replica configuration (cores, RAM, CPU
family, NICs with firewall rules and flow logs, volumes), between a minimum and a maximum number of replicas,
with a scaling policy; the group's servers and the actions that scaled it.

The real effect: a group's servers are real Cloud API servers of its data center, made and deleted through the
Cloud API's own kinds (apis/cloud/compute.py, network.py) in a Cloud API request of their own (its /requests
shows them), so they count against the contract's limits and the Cloud API SDK sees them. A new group starts
with `minReplicaCount` servers (a SCALE_OUT action); a PUT that moves the bounds past the current count
scales out to the new minimum or in to the new maximum (the policy's termination policy picks which go, its
`deleteVolumes` whether their volumes go with them); deleting the group deletes its servers and their volumes.
A NIC that names a target group registers each replica's address there as a target, and removes it with it.
No metrics are collected, so the policy's thresholds never trigger a scaling by themselves.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from typing import Any

from starlette.datastructures import QueryParams

from ... import spec as specs
from ...engine import resources
from ...engine.change import Change, key
from ...engine.errors import ApiError, invalid
from ...gateway.context import Ctx, Reply
from ...store import Row
from ..dbaas import V1_CLUSTER_METADATA, editable_datacenter
from ..product import PKind, Product, computed_rows, new_row, render

PRODUCT = Product(
    name="autoscaling",
    spec_name="autoscaling",
    config_name="autoscaling",
    host="api.ionos.com",
    # the Cloud API has no group flag for VM Auto Scaling: a user needs write access to the group's data
    # center (its owner, or a share with the edit privilege), checked below (guess)
    privilege=None,
)
# the first generation (vm-autoscaling-v1.yaml) at api.ionos.com/cloudapi/autoscaling, beside the Cloud API:
# the same groups (the kinds below are shared), its own spellings (targetReplicaCount, no NIC firewall rules)
V1 = Product(
    name="autoscaling-v1",
    spec_name="autoscaling-v1",
    config_name="",  # the tools look "autoscaling" up for the current API
    host="api.ionos.com",
    path_base="/cloudapi/autoscaling",  # every path of its spec begins there; its server is the bare host
    registry=PRODUCT.registry,
)
PRODUCTS = [PRODUCT, V1]

POLICY_DEFAULTS = {"range": "120s"}
ACTION_DEFAULTS = {"cooldownPeriod": "5m"}
SCALE_IN_DEFAULTS = {**ACTION_DEFAULTS, "terminationPolicy": "OLDEST_SERVER_FIRST", "deleteVolumes": False}


# -- the Cloud API's servers, made and deleted through its own kinds -------------------------------------


def cloud_ctx(ctx: Ctx, op_id: str, path: str, body: Any = None, query: dict | None = None) -> Ctx:
    """The request as the Cloud API would see the call the service makes for the group: its operation, path
    and body, so its rules, hrefs and request record are the Cloud API's own."""
    from ..cloud import API as CLOUD_API

    op = specs.load("cloud").operation(op_id)
    return dataclasses.replace(
        ctx,
        api=CLOUD_API,
        op=op,
        method=op.method,
        path=path,
        params={},
        query=QueryParams(query or {}),
        body=body,
        raw_body=json.dumps(body).encode() if body is not None else b"",
        client_prefix=None,
    )


def server_body(group: Row, n: int) -> dict:
    """The Cloud API request body of one replica: a server with its volumes and NICs inline."""
    rc = group.props["replicaConfiguration"]
    props = {
        "name": f"{group.props['name']}-{n}",
        "cores": rc["cores"],
        "ram": rc["ram"],
        "availabilityZone": rc.get("availabilityZone") or "AUTO",
    }
    if rc.get("cpuFamily"):
        props["cpuFamily"] = rc["cpuFamily"]
    volumes = []
    secrets = group.x.get("volumeSecrets", [])
    for i, v in enumerate(rc.get("volumes") or []):
        shown = (
            "name",
            "size",
            "type",
            "bus",
            "image",
            "imageAlias",
            "sshKeys",
            "userData",
            "backupunitId",
            "bootOrder",
        )
        vp = {k: v[k] for k in shown if v.get(k)}
        vp.update(secrets[i] if i < len(secrets) else {})
        if not (v.get("image") or v.get("imageAlias")):
            vp["licenceType"] = "UNKNOWN"
        volumes.append({"properties": vp})
    nics = []
    for nic in rc.get("nics") or []:
        np = {k: nic[k] for k in ("name", "lan", "dhcp", "firewallActive", "firewallType") if nic.get(k) is not None}
        entities = {}
        if nic.get("firewallRules"):
            entities["firewallrules"] = {
                "items": [{"properties": {k: v for k, v in r.items() if v is not None}} for r in nic["firewallRules"]]
            }
        if nic.get("flowLogs"):
            entities["flowlogs"] = {"items": [{"properties": dict(f)} for f in nic["flowLogs"]]}
        nics.append({"properties": np, **({"entities": entities} if entities else {})})
    entities = {}
    if volumes:
        entities["volumes"] = {"items": volumes}
    if nics:
        entities["nics"] = {"items": nics}
    return {"properties": props, **({"entities": entities} if entities else {})}


def group_servers(ctx: Ctx, group: Row) -> list[Row]:
    """The Cloud API servers of the group that still exist, oldest first."""
    out = []
    for sid in group.x.get("servers", []):
        row = ctx.store.get(ctx.tenant, "server", group.x["datacenterId"], sid)
        if row is not None:
            out.append(row)
    return out


def scale(ctx: Ctx, group: Row, target: int, change: Change) -> Row | None:
    """Makes or deletes Cloud API servers until the group has `target`; the action that records it (None when
    the count is right). The servers change in a Cloud API request of their own, which completes the action."""
    from ..cloud import compute
    from ..cloud.model import Change as CloudChange

    servers = group_servers(ctx, group)
    if target == len(servers):
        return None
    dc_id = group.x["datacenterId"]
    dc = ctx.store.get(ctx.tenant, "datacenter", "", dc_id)
    if dc is None:
        raise invalid("properties.datacenter.id", f"names no data center ('{dc_id}')")
    out = target > len(servers)
    action = new_row(
        ctx,
        ACTION,
        group,
        {"actionType": "SCALE_OUT" if out else "SCALE_IN", "actionStatus": "IN_PROGRESS", "targetReplicaCount": target},
    )
    change.created(ACTION, action, final_state="AVAILABLE")
    path = f"/datacenters/{dc_id}/servers"
    if out:
        with CloudChange(cloud_ctx(ctx, "datacentersServersPost", path), "server", dc_id) as ch:
            for _ in range(target - len(servers)):
                group.x["made"] = n = int(group.x.get("made", 0)) + 1
                body = server_body(group, n)
                ctx_for = cloud_ctx(ctx, "datacentersServersPost", path, body)
                try:
                    server = resources.create_row(ctx_for, compute.SERVER, dc, ch, body=body)
                except ApiError as e:  # the Cloud API's rules refuse the replica: nothing is made
                    if e.status >= 500:
                        raise
                    message = f"properties.replicaConfiguration: the Cloud API refuses a replica: {e.message}"
                    raise ApiError(e.status, message, e.explicit_code) from None
                group.x["servers"].append(server.id)
                register_targets(ctx, group, server, ch)
            ch.effect("props", key(action), set={"actionStatus": "SUCCESSFUL"})
            ch.effect("props", key(action), on_fail=True, set={"actionStatus": "FAILED"})
        after_servers(change, ch)
    else:
        policy = (group.props.get("policy") or {}).get("scaleInAction") or {}
        order = policy.get("terminationPolicy") or "OLDEST_SERVER_FIRST"
        doomed = list(servers)
        if order == "NEWEST_SERVER_FIRST":
            doomed.reverse()
        elif order == "RANDOM":
            random.shuffle(doomed)
        doomed = doomed[: len(servers) - target]
        delete_servers(ctx, group, doomed, bool(policy.get("deleteVolumes")), action, change)
    return action


def register_targets(ctx: Ctx, group: Row, server: Row, ch: Change) -> None:
    """A replica's NICs that name a target group become targets of it (their first address, the port and
    weight the configuration gives), as the service registers its replicas with a load balancer."""
    from ..cloud.netservices import TARGET_GROUP

    nics = ctx.store.list(ctx.tenant, "nic", server.id)
    made = []
    for i, nic in enumerate(group.props["replicaConfiguration"].get("nics") or []):
        ref = nic.get("targetGroup")
        if not ref or i >= len(nics) or not nics[i].props.get("ips"):
            continue
        tg = ctx.store.get(ctx.tenant, TARGET_GROUP.name, "", ref["targetGroupId"])
        if tg is None:
            continue
        target = {
            "ip": nics[i].props["ips"][0],
            "port": ref["port"],
            "weight": ref["weight"],
            "proxyProtocol": "none",
            "healthCheckEnabled": True,
            "maintenanceEnabled": False,
        }
        tg.props["targets"] = [*tg.props.get("targets", []), target]
        ch.updated(TARGET_GROUP, tg)
        made.append([tg.id, target["ip"], target["port"]])
    if made:
        group.x.setdefault("targets", {})[server.id] = made


def unregister_targets(ctx: Ctx, group: Row, server: Row, ch: Change) -> None:
    """The targets a replica was registered as leave their target groups with it."""
    from ..cloud.netservices import TARGET_GROUP

    for tg_id, ip, port in group.x.get("targets", {}).pop(server.id, []):
        tg = ctx.store.get(ctx.tenant, TARGET_GROUP.name, "", tg_id)
        if tg is None:
            continue
        tg.props["targets"] = [t for t in tg.props.get("targets", []) if (t["ip"], t["port"]) != (ip, port)]
        ch.updated(TARGET_GROUP, tg)


def after_servers(change: Change, cloud: Change) -> None:
    """The group's own change completes no sooner than the Cloud API request that changes its servers: the
    group stays BUSY while its replicas are made or deleted."""
    change.req["done_at"] = max(change.req["done_at"], cloud.req["done_at"])


def delete_servers(ctx: Ctx, group: Row, servers: list[Row], volumes: bool, action: Row | None, change: Change) -> None:
    from ..cloud import compute
    from ..cloud.model import Change as CloudChange

    if not servers:
        return
    dc_id = group.x["datacenterId"]
    query = {"deleteVolumes": "true"} if volumes else {}
    base = cloud_ctx(ctx, "datacentersServersDelete", f"/datacenters/{dc_id}/servers/{servers[0].id}", query=query)
    with CloudChange(base, "server", dc_id) as ch:
        for server in servers:
            one = cloud_ctx(ctx, "datacentersServersDelete", f"/datacenters/{dc_id}/servers/{server.id}", query=query)
            unregister_targets(ctx, group, server, ch)
            resources.delete_row(one, compute.SERVER, server, ch)
            group.x["servers"].remove(server.id)
        if action is not None:
            ch.effect("props", key(action), set={"actionStatus": "SUCCESSFUL"})
            ch.effect("props", key(action), on_fail=True, set={"actionStatus": "FAILED"})
    after_servers(change, ch)


# -- groups ----------------------------------------------------------------------------------------


def datacenter_of(ctx: Ctx, props: dict) -> Row:
    """The group's data center: one the caller may change (`dbaas.editable_datacenter`)."""
    ref = props.get("datacenter")
    dc_id = ref.get("id") if isinstance(ref, dict) else None
    if not dc_id:
        raise invalid("properties.datacenter.id", "is required")
    return editable_datacenter(ctx, "properties.datacenter.id", dc_id)


def group_props(ctx: Ctx, props: dict, old: Row | None) -> tuple[dict, Row]:
    """A group's properties checked and completed, and its data center."""
    for name in ("name", "minReplicaCount", "maxReplicaCount", "replicaConfiguration", "policy"):
        if props.get(name) is None:
            raise invalid(f"properties.{name}", "is required")
    if old is not None:
        given = (props.get("datacenter") or {}).get("id")
        if given not in (None, old.x["datacenterId"]):
            raise invalid("properties.datacenter.id", f"cannot be changed (is '{old.x['datacenterId']}')")
        props["datacenter"] = {"id": old.x["datacenterId"]}
    dc = datacenter_of(ctx, props)
    location = props.get("location") or dc.props["location"]
    if location != dc.props["location"]:
        raise invalid(
            "properties.location", f"must be the data center's location ({dc.props['location']}), got '{location}'"
        )
    low, high = props["minReplicaCount"], props["maxReplicaCount"]  # their maxima: the schema's
    if low > high:
        raise invalid("properties.minReplicaCount", f"must not exceed maxReplicaCount ({high}), got {low}")
    rc = props["replicaConfiguration"]
    for name in ("cores", "ram"):
        if rc.get(name) is None:
            raise invalid(f"properties.replicaConfiguration.{name}", "is required")
    lans = {lan.id for lan in ctx.store.list(ctx.tenant, "lan", dc.id)}
    for i, nic in enumerate(rc.get("nics") or []):
        if nic.get("lan") is None:
            raise invalid(f"properties.replicaConfiguration.nics[{i}].lan", "is required")
        if nic.get("targetGroup"):
            nic["targetGroup"] = target_group_of(ctx, f"properties.replicaConfiguration.nics[{i}].targetGroup", nic)
        if str(nic["lan"]) not in lans:
            raise invalid(
                f"properties.replicaConfiguration.nics[{i}].lan", f"names no LAN of data center {dc.id} ({nic['lan']})"
            )
    for i, vol in enumerate(rc.get("volumes") or []):
        for name in ("name", "size", "type"):
            if vol.get(name) is None:
                raise invalid(f"properties.replicaConfiguration.volumes[{i}].{name}", "is required")
    policy = props["policy"]
    for name in ("metric", "scaleInThreshold", "scaleOutThreshold", "unit", "scaleInAction", "scaleOutAction"):
        if policy.get(name) is None:
            raise invalid(f"properties.policy.{name}", "is required")
    if policy["scaleInThreshold"] >= policy["scaleOutThreshold"]:
        raise invalid("properties.policy.scaleInThreshold", "must be lower than scaleOutThreshold")
    for side, defaults in (("scaleInAction", SCALE_IN_DEFAULTS), ("scaleOutAction", ACTION_DEFAULTS)):
        act = policy[side]
        for name in ("amount", "amountType"):
            if act.get(name) is None:
                raise invalid(f"properties.policy.{side}.{name}", "is required")
        if act["amount"] <= 0 or (act["amountType"] == "PERCENTAGE" and act["amount"] > 100):
            raise invalid(
                f"properties.policy.{side}.amount",
                f"must be a positive number of servers or percent, got {act['amount']}",
            )
        policy[side] = {**defaults, **{k: v for k, v in act.items() if v is not None}}
    props["policy"] = {**POLICY_DEFAULTS, **{k: v for k, v in policy.items() if v is not None}}
    props["location"] = location
    props["datacenter"] = {
        "id": dc.id,
        "type": "datacenter",
        "href": cloud_ctx(ctx, "datacentersFindById", "").href(dc.path),
    }
    return props, dc


def target_group_of(ctx: Ctx, attr: str, nic: dict) -> dict:
    """A NIC's target group: an existing one of the contract, a port and a weight (1 when left out, guess)."""
    from ..cloud.model import visible

    ref = nic["targetGroup"]
    tg_id = ref.get("targetGroupId")
    tg = ctx.store.get(ctx.tenant, "targetgroup", "", tg_id) if tg_id else None
    if tg is None or not visible(ctx, tg):
        raise invalid(f"{attr}.targetGroupId", f"names no target group ('{tg_id}')")
    port = ref.get("port")
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise invalid(f"{attr}.port", f"must be a port from 1 to 65535, got {port}")
    weight = 1 if ref.get("weight") is None else ref["weight"]
    if not 0 <= weight <= 256:
        raise invalid(f"{attr}.weight", f"must be from 0 to 256, got {weight}")
    return {"targetGroupId": tg_id, "port": port, "weight": weight}


def target_of(props: dict, current: int) -> int:
    """The replica count a group should have: what it has, kept within its bounds (a v1 client's
    targetReplicaCount, when it sends one)."""
    wanted = props.pop("targetReplicaCount", None)
    count = current if wanted is None else wanted
    return max(props["minReplicaCount"], min(props["maxReplicaCount"], count))


def volume_secrets(props: dict, old: Row | None) -> list[dict]:
    """The replica volumes' image passwords: write-only, kept apart from what is shown (a replacement that
    sends none keeps the one of the volume at the same place)."""
    before = old.x.get("volumeSecrets", []) if old is not None else []
    out = []
    for i, vol in enumerate(props["replicaConfiguration"].get("volumes") or []):
        password = vol.pop("imagePassword", None)
        out.append({"imagePassword": password} if password else (before[i] if i < len(before) else {}))
    return out


def create_group(ctx: Ctx, parent: Row | None, body: Any, change: Change) -> Row:
    props, dc = group_props(ctx, resources.body_properties(ctx, body=body), None)
    target = target_of(props, props["minReplicaCount"])
    row = new_row(ctx, GROUP, None, props)
    row.x.update(datacenterId=dc.id, servers=[], made=0, started=[], volumeSecrets=volume_secrets(props, None))
    change.created(GROUP, row)
    action = scale(ctx, row, target, change)
    row.x["started"] = [action.id] if action else []
    ctx.store.update(row)
    return row


def update_group(ctx: Ctx, row: Row, props: dict, replace: bool, change: Change) -> None:
    props, _ = group_props(ctx, {**row.props, **props} if not replace else props, row)
    target = target_of(props, len(group_servers(ctx, row)))
    row.x["volumeSecrets"] = volume_secrets(props, row)
    row.doc["properties"] = props
    action = scale(ctx, row, target, change)
    row.x["started"] = [action.id] if action else []


def delete_group(ctx: Ctx, row: Row, change: Change) -> None:
    delete_servers(ctx, row, group_servers(ctx, row), True, None, change)
    ctx.store.update(row)


def etag(row: Row) -> str:
    return hashlib.md5(f"{row.id}{row.meta.get('lastModifiedDate')}{row.meta.get('state')}".encode()).hexdigest()


def group_members(ctx: Ctx, row: Row) -> dict:
    """The group's entities: on a creation, links to its actions and servers and the actions it started; on a
    read, the collections at the depth asked for."""
    base = f"{row.path}"
    if ctx.method == "POST":
        return {
            "entities": {
                "actions": {"id": f"{row.id}/actions", "type": "collection", "href": ctx.href(f"{base}/actions")},
                "servers": {"id": f"{row.id}/servers", "type": "collection", "href": ctx.href(f"{base}/servers")},
            },
            "startedActions": [
                {"id": aid, "type": ACTION.type, "href": ctx.href(f"{base}/actions/{aid}")} for aid in row.x["started"]
            ],
        }
    depth = ctx.depth
    entities = {}
    for name, kind, rows in (
        ("actions", ACTION, ctx.store.list(ctx.tenant, ACTION.name, row.id)),
        ("servers", SERVER, server_rows(ctx, row)),
    ):
        coll: dict[str, Any] = {"id": f"{row.id}/{name}", "type": "collection", "href": ctx.href(f"{base}/{name}")}
        if depth >= 1:
            coll["items"] = [
                render(ctx, kind, r) if depth >= 2 else {"id": r.id, "type": kind.type, "href": ctx.href(r.path)}
                for r in rows
            ]
        entities[name] = coll
    return {"entities": entities}


GROUP_METADATA = (*V1_CLUSTER_METADATA, "etag")  # who made and changed it, when, its etag and state
BASIC_METADATA = ("createdDate", "lastModifiedDate", "etag", "state")

GROUP = PKind(
    PRODUCT,
    "group",
    "autoscaling-group",
    "groups",
    creating="BUSY",
    updating="BUSY",
    destroying="BUSY",
    absolute_href=True,
    create=create_group,
    update=update_group,
    delete=delete_group,
    meta=lambda ctx, row: {"etag": etag(row)},
    metadata_fields=GROUP_METADATA,
    members=group_members,
    ensure=False,
)


def action_view(ctx: Ctx, row: Row) -> dict:
    """The action's type and status; the first generation of the API shows the count it scaled to as well."""
    shown = ("actionStatus", "actionType", *(("targetReplicaCount",) if ctx.api.name == V1.name else ()))
    return {k: row.props[k] for k in shown}


ACTION = PKind(
    PRODUCT,
    "action",
    "autoscaling-action",
    "actions",
    parent=GROUP,
    creating="BUSY",
    absolute_href=True,
    view=action_view,
    meta=lambda ctx, row: {"etag": etag(row)},
    metadata_fields=BASIC_METADATA,
)


def server_rows(ctx: Ctx, group: Row | None) -> list[Row]:
    """The group's servers as the API lists them: each names its Cloud API server."""
    assert group is not None
    out = []
    for server in group_servers(ctx, group):
        href = cloud_ctx(ctx, "datacentersServersFindById", "").href(server.path)
        props = {
            "datacenterServer": {"id": server.id, "type": "server", "href": href},
            "name": server.props.get("name"),
        }
        row = computed_rows(ctx, SERVER, {server.id: props}, group)[0]
        row.doc["metadata"] = {
            "createdDate": server.meta.get("createdDate"),
            "lastModifiedDate": server.meta.get("lastModifiedDate"),
            "etag": server.meta.get("etag"),
            "state": "AVAILABLE" if server.meta.get("state") == "AVAILABLE" else "BUSY",
        }
        out.append(row)
    return out


SERVER = PKind(
    PRODUCT,
    "server",
    "autoscaling-server",
    "servers",
    parent=GROUP,
    absolute_href=True,
    rows=server_rows,
    metadata_fields=BASIC_METADATA,
)


def openapi_document(ctx: Ctx) -> dict:
    """The API's own description, from its compiled spec: its operations by path and method."""
    spec = specs.load(V1.spec_name)
    paths: dict[str, dict] = {}
    for op in spec.operations:
        paths.setdefault(op.path, {})[op.method.lower()] = {"operationId": op.id}
    return {
        "openapi": "3.0.3",
        "info": {"title": "VM Auto Scaling API", "version": spec.version},
        "servers": [{"url": ctx.base_url}],
        "paths": paths,
    }


@V1.handler("autoscalingOpenapiJsonGet")
def openapi_json(ctx: Ctx) -> Reply:
    return Reply(200, openapi_document(ctx))


@V1.handler("autoscalingOpenapiYamlGet")
def openapi_yaml(ctx: Ctx) -> Reply:
    from ..cloud.k8s import _yaml

    return Reply(200, "\n".join(_yaml(openapi_document(ctx))) + "\n", content_type="application/yaml")
