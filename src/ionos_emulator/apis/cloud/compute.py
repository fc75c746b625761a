"""Data centers, servers (ENTERPRISE, VCPU, CUBE), volumes, CD-ROMs and server actions (api-behaviour.md §6.2-6.4)."""

from __future__ import annotations

import html
import secrets
from urllib.parse import urlsplit

from ...engine.errors import ApiError
from ...gateway.context import Ctx, Reply
from ...store import Store
from . import catalogue
from .model import (
    Change,
    Kind,
    apply_props,
    collection,
    full,
    key,
    load,
    load_chain,
    new_row,
    props_of,
    register,
    register_shareable,
    single,
    stored,
)
from .rules import as_int, check_server_size, check_storage, datacenter_ipv6_cidr, fail, location_of

API_HANDLERS: dict = {}


def handler(op_id):
    def deco(fn):
        API_HANDLERS[op_id] = fn
        return fn

    return deco


# -- data centers -----------------------------------------------------------------------------------


def create_datacenter(ctx: Ctx, parent, body, ch: Change):
    p = props_of(body)
    loc = location_of(ctx, p["location"])
    props = {
        "name": p.get("name", ""),
        "description": p.get("description", ""),
        "location": loc["id"],
        "version": 1,
        "features": list(loc["properties"]["features"]),
        "secAuthProtection": bool(p.get("secAuthProtection", False)),
        "cpuArchitecture": [dict(a) for a in loc["properties"]["cpuArchitecture"]],
        "gpuArchitecture": list(loc["properties"].get("gpuArchitecture", [])),
        "ipv6CidrBlock": datacenter_ipv6_cidr(ctx),
    }
    row = new_row(ctx, DATACENTER, None, props)
    row.scope = row.id
    return ch.created(DATACENTER, row)


DATACENTER_MUTABLE = ("name", "description", "secAuthProtection", "ipv6CidrBlock")


def update_datacenter(ctx: Ctx, row, props, replace, ch):
    apply_props(row, props, replace, mutable=DATACENTER_MUTABLE, immutable=("location",))


DATACENTER = register_shareable(
    "datacenter",
    "datacenter",
    "datacenters",
    "createDataCenter",
    paginated=True,
    # the order inline entities are created in: LANs before the servers and balancers that name them
    entities=("lans", "servers", "volumes", "loadbalancers", "networkloadbalancers", "natgateways", "securitygroups"),
    create=create_datacenter,
    update=update_datacenter,
)


# -- volumes ----------------------------------------------------------------------------------------

VOLUME_TYPES_NEEDING_CUBE = ("DAS",)


def _image_for(ctx: Ctx, dc, p: dict) -> dict | None:
    """The image or snapshot a new volume is made from, resolved in the data center's location."""
    loc = dc.props["location"]
    if p.get("image") and p.get("imageAlias"):
        raise fail("attributes 'image' and 'imageAlias' cannot be given together")
    if p.get("imageAlias"):
        img = catalogue.resolve_image_alias(p["imageAlias"], loc)
        if img is None:
            raise fail(f"The image alias '{p['imageAlias']}' does not exist in location {loc}", vdc="VDC-9-6")
        return img
    if p.get("image"):
        img = catalogue.image(p["image"])
        if img is None:
            snap = ctx.store.get(ctx.tenant, "snapshot", "", p["image"])
            if snap is None:
                private = ctx.store.get(ctx.tenant, "image", "", p["image"])
                if private is None:
                    raise fail(f"The image or snapshot '{p['image']}' does not exist", vdc="VDC-9-6")
                img = {"id": private.id, "properties": private.props, "public": False}
            else:
                img = {"id": snap.id, "properties": {**snap.props, "imageType": "HDD", "public": False}}
        if img["properties"].get("location") != loc:
            raise fail(f"The image '{p['image']}' is not available in location {loc}", vdc="VDC-9-7")
        if img["properties"].get("imageType") == "CDROM":
            raise fail("An ISO image cannot be used as a volume image; attach it as a CD-ROM", vdc="VDC-9-8")
        return img
    return None


def volume_props(ctx: Ctx, dc, p: dict, *, composite_cube: bool = False) -> tuple[dict, dict]:
    """Validated properties of a new volume, and its write-only secrets (kept apart, never rendered)."""
    vtype = p.get("type", "HDD")
    if vtype == "DAS" and not composite_cube:
        raise fail("A DAS volume can only be created together with a Cube server in one call", vdc="VDC-9-20")
    if vtype == "ISO":
        raise fail("Volumes of type ISO cannot be created", vdc="VDC-9-21")
    img = _image_for(ctx, dc, p)
    size = p.get("size")
    if size is None:
        if img is None:
            raise fail("attribute 'properties.size' is required", vdc="VDC-1-2")
        size = float(img["properties"].get("size") or 1.0)
    size = float(size)
    if size <= 0:
        raise fail("attribute 'properties.size' must be greater than 0", vdc="VDC-9-1")
    if img is not None and size < float(img["properties"].get("size") or 0):
        raise fail(
            f"The volume size ({size:g} GB) is smaller than its image ({img['properties']['size']:g} GB)", vdc="VDC-9-2"
        )
    if img is None and not p.get("licenceType"):
        raise fail("attribute 'properties.licenceType' is required for a volume without an image", vdc="VDC-1-2")
    public = img is not None and img["properties"].get("public", False)
    if (p.get("imagePassword") or p.get("sshKeys")) and not public:
        raise fail("'imagePassword' and 'sshKeys' work with public images only", vdc="VDC-9-9")
    if (p.get("userData") or p.get("backupunitId")) and img is None:
        raise fail("'userData' and 'backupunitId' need a public image or imageAlias", vdc="VDC-9-10")
    if vtype == "DAS" and p.get("availabilityZone") not in (None, "AUTO"):
        raise fail("A DAS volume takes no availability zone", vdc="VDC-9-22")
    check_storage(ctx, vtype, size)
    ip = img["properties"] if img else {}
    props = {
        "name": p.get("name", ""),
        "type": vtype,
        "size": size,
        "availabilityZone": p.get("availabilityZone", "AUTO"),
        "image": img["id"] if img else None,
        "imageAlias": p.get("imageAlias"),
        "bus": p.get("bus", "VIRTIO"),
        "licenceType": ip.get("licenceType") or p.get("licenceType", "UNKNOWN"),
        "cpuHotPlug": ip.get("cpuHotPlug", p.get("cpuHotPlug", True)),
        "ramHotPlug": ip.get("ramHotPlug", p.get("ramHotPlug", True)),
        "nicHotPlug": ip.get("nicHotPlug", p.get("nicHotPlug", True)),
        "nicHotUnplug": ip.get("nicHotUnplug", p.get("nicHotUnplug", True)),
        "discVirtioHotPlug": ip.get("discVirtioHotPlug", p.get("discVirtioHotPlug", True)),
        "discVirtioHotUnplug": ip.get("discVirtioHotUnplug", p.get("discVirtioHotUnplug", True)),
        "exposeSerial": p.get("exposeSerial", False),
        "requireLegacyBios": p.get("requireLegacyBios", True),
        "deviceNumber": None,
        "pciSlot": None,
        "bootServer": None,
        "backupunitId": p.get("backupunitId"),
        "userData": p.get("userData"),
        "bootOrder": p.get("bootOrder", "AUTO"),
    }
    if "applicationType" in ip or "applicationType" in p:
        props["applicationType"] = ip.get("applicationType", p.get("applicationType"))
    props = {k: v for k, v in props.items() if v is not None or k in ("deviceNumber", "pciSlot", "bootServer")}
    secrets = {k: p[k] for k in ("imagePassword", "sshKeys") if p.get(k)}
    return props, secrets


def create_volume(ctx: Ctx, dc, body, ch: Change):
    props, secrets = volume_props(ctx, dc, props_of(body))
    row = new_row(ctx, VOLUME, dc, props)
    row.x.update(secrets)
    return ch.created(VOLUME, row)


def update_volume(ctx: Ctx, row, props, replace, ch):
    if "size" in props:
        size = float(props["size"])
        if size < float(row.props["size"]):
            raise fail("The size of a volume can only be increased", vdc="VDC-9-3")
        check_storage(ctx, row.props["type"], size, extra_gb=size - float(row.props["size"]))
    for secret in ("imagePassword", "sshKeys", "userData", "backupunitId"):
        if props.get(secret) is not None and props.get(secret) != row.props.get(secret):
            raise fail(f"attribute 'properties.{secret}' can only be set when the volume is created", vdc="VDC-1-3")
    apply_props(
        row,
        props,
        replace,
        mutable=(
            "name",
            "size",
            "bus",
            "cpuHotPlug",
            "ramHotPlug",
            "nicHotPlug",
            "nicHotUnplug",
            "discVirtioHotPlug",
            "discVirtioHotUnplug",
            "exposeSerial",
            "requireLegacyBios",
            "bootOrder",
        ),
        immutable=("type", "image", "imageAlias", "availabilityZone", "licenceType"),
    )


def delete_volume(ctx: Ctx, row, ch):
    if row.link:
        _detach_volume_from_boot(ctx, row, ch)


VOLUME = register(
    Kind(
        "volume",
        "volume",
        "volumes",
        parent="datacenter",
        create=create_volume,
        update=update_volume,
        delete=delete_volume,
    )
)


# -- servers ----------------------------------------------------------------------------------------

SERVER_TYPES = ("ENTERPRISE", "VCPU", "CUBE", "GPU")
MAX_DEVICES = 24


def _server_rules(ctx: Ctx, dc, p: dict, *, existing=None) -> dict:
    """Type rules of servers (api-behaviour.md §6.3). Returns the resolved size {cores, ram, cpuFamily}."""
    stype = existing.props["type"] if existing else p.get("type", "ENTERPRISE")
    if stype not in SERVER_TYPES:  # the model leaves `type` a free string; the API knows four
        raise fail(
            f"attribute 'properties.type' must be one of {', '.join(SERVER_TYPES)}, not '{stype}'", vdc="VDC-1-1"
        )
    loc = location_of(ctx, dc.props["location"])
    if stype in ("CUBE", "GPU"):
        if not existing:
            if not p.get("templateUuid"):
                raise fail(f"attribute 'properties.templateUuid' is required for {stype} servers", vdc="VDC-1-2")
            for attr in ("cores", "ram"):
                if p.get(attr) is not None:
                    raise fail(f"The attribute '{attr}' must not be provided for Cube servers", vdc="VDC-5-1921")
        if p.get("cpuFamily"):
            raise fail("The attribute 'cpuFamily' must not be provided for Cube servers.", vdc="VDC-5-1921")
        if p.get("availabilityZone") not in (None, "AUTO"):
            raise fail("The availability zone of a Cube server must be AUTO", vdc="VDC-5-1922")
        if p.get("nicMultiQueue"):
            raise fail("nicMultiQueue is not allowed for servers of type Cube", vdc="VDC-5-1923")
        tid = p.get("templateUuid") or existing.props.get("templateUuid")
        tpl = catalogue.template(tid)
        if tpl is None:
            raise fail(f"The template '{tid}' does not exist", vdc="VDC-5-1924")
        if (stype == "GPU") != bool(tpl["properties"].get("gpus")):
            raise fail(f"A {stype} server needs a {'GPU' if stype == 'GPU' else 'Cube'} template", vdc="VDC-5-1928")
        if stype == "GPU" and not loc["properties"].get("gpuArchitecture"):
            raise fail(f"GPU servers are not offered in {loc['id']}", vdc="VDC-5-1929")
        cores, ram, family = int(tpl["properties"]["cores"]), int(tpl["properties"]["ram"]), None
        family = loc["properties"]["cpuArchitecture"][0]["cpuFamily"]
    else:
        if p.get("templateUuid") and not existing:
            raise fail("attribute 'templateUuid' is only for Cube and GPU servers", vdc="VDC-5-1925")
        given_cores = p.get("cores", existing.props.get("cores") if existing else None)
        given_ram = p.get("ram", existing.props.get("ram") if existing else None)
        if given_cores is None:
            raise fail("attribute 'properties.cores' is required", vdc="VDC-1-2")
        if given_ram is None:
            raise fail("attribute 'properties.ram' is required", vdc="VDC-1-2")
        cores, ram = as_int(given_cores, "properties.cores"), as_int(given_ram, "properties.ram")
        if cores < 1:
            raise fail("attribute 'properties.cores' must be at least 1", vdc="VDC-5-1001")
        if ram < 256 or ram % 256:
            raise fail("attribute 'properties.ram' must be a multiple of 256 MB and at least 256 MB", vdc="VDC-5-1002")
        family = p.get("cpuFamily") or (existing.props.get("cpuFamily") if existing else None)
        families = [a["cpuFamily"] for a in loc["properties"]["cpuArchitecture"]]
        if stype == "VCPU" and p.get("cpuFamily") and not existing:
            raise fail("The attribute 'cpuFamily' must not be provided for VCPU servers", vdc="VDC-5-1926")
        if family and family not in families:
            raise fail(
                f"The CPU family '{family}' is not available in {loc['id']} ({', '.join(families)})", vdc="VDC-5-1003"
            )
        family = family or families[0]
    old_cores = int(existing.props.get("cores") or 0) if existing and existing.props.get("vmState") != "SHUTOFF" else 0
    old_ram = int(existing.props.get("ram") or 0) if existing and existing.props.get("vmState") != "SHUTOFF" else 0
    check_server_size(ctx, loc, family, cores, ram, extra_cores=cores - old_cores, extra_ram=ram - old_ram)
    return {"cores": cores, "ram": ram, "cpuFamily": family}


def _hostname_ok(h: str) -> bool:
    import re

    return bool(re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", h))


def _direct_attached(stype: str, p: dict, vol_items: list) -> list:
    """A Cube or GPU server's first inline volume is its direct-attached storage: its type and size are the
    template's (DAS, the template's storageSize) unless the client gives them."""
    if stype not in ("CUBE", "GPU") or not vol_items or not isinstance(vol_items[0], dict):
        return vol_items
    tpl = catalogue.template(p.get("templateUuid") or "") or {"properties": {}}
    first = vol_items[0]
    defaults = {"type": "DAS", "size": tpl["properties"].get("storageSize")}
    given: dict = first["properties"] if isinstance(first.get("properties"), dict) else {}
    merged = {**{k: v for k, v in defaults.items() if v is not None}, **given}
    return [{**first, "properties": merged}, *vol_items[1:]]


def create_server(ctx: Ctx, dc, body, ch: Change):
    p = props_of(body)
    stype = p.get("type", "ENTERPRISE")
    size = _server_rules(ctx, dc, p)
    if p.get("hostname") and not _hostname_ok(p["hostname"]):
        raise fail(
            "attribute 'properties.hostname' may contain a-z, 0-9 and '-', not start with '-', "
            "and be at most 63 characters",
            vdc="VDC-5-1004",
        )
    entities = body.get("entities") or {}
    vol_items = _direct_attached(stype, p, (entities.get("volumes") or {}).get("items") or [])
    nic_items = (entities.get("nics") or {}).get("items") or []
    if len(vol_items) + len(nic_items) > MAX_DEVICES:
        raise fail(f"A server can have at most {MAX_DEVICES} volumes and NICs together", vdc="VDC-5-1005")
    if stype == "CUBE" and not any((v.get("properties") or {}).get("type") == "DAS" for v in vol_items):
        raise fail("A Cube server must be created in one call together with its DAS volume", vdc="VDC-5-1927")
    props = {
        "name": p.get("name", "Unnamed Cube" if stype == "CUBE" else ""),
        "type": stype,
        "cores": size["cores"],
        "ram": size["ram"],
        "availabilityZone": p.get("availabilityZone", "AUTO"),
        "vmState": "RUNNING",
        "cpuFamily": size["cpuFamily"],
        "bootVolume": None,
        "bootCdrom": None,
        "nicMultiQueue": bool(p.get("nicMultiQueue", False)),
    }
    if p.get("hostname"):
        props["hostname"] = p["hostname"]
    if p.get("templateUuid"):
        props["templateUuid"] = p["templateUuid"]
    if p.get("placementGroupId"):
        props["placementGroupId"] = p["placementGroupId"]
    server = new_row(ctx, SERVER, dc, props)
    ch.created(SERVER, server)
    for v in vol_items:
        if not isinstance(v, dict):
            raise fail("entities.volumes.items must hold volumes", vdc="VDC-1-1")
        vp, secrets = volume_props(
            ctx, dc, props_of(v, "entities.volumes.items[].properties"), composite_cube=(stype in ("CUBE", "GPU"))
        )
        vol = new_row(ctx, VOLUME, dc, vp)
        vol.x.update(secrets)
        _mount(ctx, vol, server)
        ch.created(VOLUME, vol)
        if server.props["bootVolume"] is None:
            server.props["bootVolume"] = {"id": vol.id, "type": "volume", "href": ctx.href(vol.path)}
    # the NICs (and what they carry inline) are created after it, as every inline entity is (create_entities)
    boot = p.get("bootVolume") or p.get("bootCdrom")
    if boot:
        _set_boot(ctx, dc, server, p)
    ctx.store.update(server)
    return server


def free_device_and_slot(ctx: Ctx, server, kind: str) -> tuple[int, int]:
    """The lowest free device number among the server's NICs or volumes (`kind`), and the lowest PCI slot
    free among both: counting would hand a number out twice once a device was removed."""
    nics = ctx.store.list(ctx.tenant, "nic", server.id)
    vols = ctx.store.list(ctx.tenant, "volume", server.parent, link=server.id)
    devices = {r.props.get("deviceNumber") for r in (nics if kind == "nic" else vols)}
    slots = {r.props.get("pciSlot") for r in nics + vols}
    device = next(i for i in range(1, len(devices) + 2) if i not in devices)
    slot = next(i for i in range(6, 6 + len(slots) + 1) if i not in slots)
    return device, slot


def _mount(ctx: Ctx, vol, server) -> None:
    device, slot = free_device_and_slot(ctx, server, "volume")
    vol.link = server.id
    # bootServer: "the UUID of the attached server" (the SDK's VolumeProperties); Terraform reads it as boot_server
    vol.props.update(deviceNumber=device, pciSlot=slot, bootServer=server.id)


def _set_boot(ctx: Ctx, dc, server, p: dict) -> None:
    if p.get("bootVolume"):
        vid = p["bootVolume"].get("id") if isinstance(p["bootVolume"], dict) else None
        vol = ctx.store.get(ctx.tenant, "volume", dc.id, vid or "")
        if vol is None or vol.link != server.id:
            raise fail(f"The boot volume '{vid}' is not attached to the server", vdc="VDC-5-1006")
        server.props["bootVolume"] = {"id": vol.id, "type": "volume", "href": ctx.href(vol.path)}
        server.props["bootCdrom"] = None
    elif p.get("bootCdrom"):
        cid = p["bootCdrom"].get("id") if isinstance(p["bootCdrom"], dict) else None
        cd = ctx.store.get(ctx.tenant, "cdrom", server.id, cid or "")
        if cd is None:
            raise fail(f"The boot CD-ROM '{cid}' is not attached to the server", vdc="VDC-5-1007")
        server.props["bootCdrom"] = {"id": cd.id, "type": "image", "href": ctx.href(cd.path)}
        server.props["bootVolume"] = None


def update_server(ctx: Ctx, row, props, replace, ch):
    dc = ctx.store.get(ctx.tenant, "datacenter", "", row.parent)
    for attr in ("type", "templateUuid"):
        if attr in props and props[attr] != row.props.get(attr):
            raise fail(f"attribute 'properties.{attr}' cannot be changed", vdc="VDC-1-3")
    size = _server_rules(ctx, dc, props, existing=row)
    if props.get("hostname") and not _hostname_ok(props["hostname"]):
        raise fail("attribute 'properties.hostname' is not a valid host name", vdc="VDC-5-1004")
    apply_props(
        row, props, replace, mutable=("name", "hostname", "availabilityZone", "nicMultiQueue", "placementGroupId")
    )
    row.props.update(cores=size["cores"], ram=size["ram"], cpuFamily=size["cpuFamily"])
    if props.get("bootVolume") or props.get("bootCdrom"):
        _set_boot(ctx, dc, row, props)


def delete_server(ctx: Ctx, row, ch: Change):
    delete_volumes = (ctx.q("deleteVolumes") or "").lower() == "true"
    for vol in ctx.store.list(ctx.tenant, "volume", row.parent, link=row.id):
        if delete_volumes:
            ch.deleting(VOLUME, vol)
        else:
            ch.effect("link", key(vol), link="")
            ch.effect("props", key(vol), set={"deviceNumber": None, "pciSlot": None, "bootServer": None})


def _detach_volume_from_boot(ctx: Ctx, vol, ch: Change) -> None:
    server = ctx.store.get(ctx.tenant, "server", vol.parent, vol.link)
    if server is not None and (server.props.get("bootVolume") or {}).get("id") == vol.id:
        ch.effect("props", key(server), set={"bootVolume": None})


def _server_volumes(ctx: Ctx, server):
    return VOLUME, ctx.store.list(ctx.tenant, "volume", server.parent, link=server.id)


SERVER = register(
    Kind(
        "server",
        "server",
        "servers",
        parent="datacenter",
        entities=("cdroms", "volumes", "nics", "securitygroups", "gpus"),
        own_entities=("volumes",),
        create=create_server,
        update=update_server,
        delete=delete_server,
        entity_rows={"volumes": _server_volumes},
    )
)


# -- server actions ---------------------------------------------------------------------------------


def _action(op_id: str, allowed: tuple[str, ...], vm_state: str | None, refuse: str):
    @handler(op_id)
    def act(ctx: Ctx) -> Reply:
        dc, server = load_chain(ctx, [(DATACENTER, "datacenterId"), (SERVER, "serverId")])
        if server.props.get("type") not in allowed:
            raise fail(refuse.format(type=server.props.get("type")), vdc="VDC-5-1930")
        with Change(ctx, "server", dc.id) as ch:
            ch.updated(SERVER, server)
            if vm_state:
                ch.effect("props", key(server), set={"vmState": vm_state})
        return ch.accepted(None)

    return act


_action(
    "datacentersServersStartPost",
    ("ENTERPRISE", "VCPU", "GPU"),
    "RUNNING",
    "You cannot use this method to start a {type} server; use resume",
)
_action(
    "datacentersServersStopPost",
    ("ENTERPRISE", "VCPU", "GPU"),
    "SHUTOFF",
    "You cannot use this method to stop a {type} server; use suspend",
)
_action("datacentersServersRebootPost", SERVER_TYPES, "RUNNING", "")
_action("datacentersServersSuspendPost", ("CUBE",), "SUSPENDED", "Only Cube servers can be suspended")
_action("datacentersServersResumePost", ("CUBE",), "RUNNING", "Only Cube servers can be resumed")
_action("datacentersServersUpgradePost", SERVER_TYPES, None, "")


# -- remote console: an absolute URL to a page the emulator serves itself -----------------------------------
# The real URL opens the server's console in a browser, a short-lived token in it. Here the token is stored
# (kv "console/<token>": the server it shows) and the page, /_emulator/console/<token>, shows the server's
# name and state; with --tls the URL is https on the HTTPS port, as the real one is https.
CONSOLE_PATH = "/_emulator/console/"


def console_base(ctx: Ctx) -> str:
    if not ctx.settings.tls or ctx.base_url.startswith("https://"):
        return ctx.base_url
    host = urlsplit(ctx.base_url).hostname or "127.0.0.1"
    return f"https://{f'[{host}]' if ':' in host else host}:{ctx.settings.https_port}"


@handler("datacentersServersRemoteConsoleGet")
def remote_console(ctx: Ctx) -> Reply:
    dc, server = load_chain(ctx, [(DATACENTER, "datacenterId"), (SERVER, "serverId")])
    token = secrets.token_urlsafe(24)
    with ctx.store.tx():
        ctx.store.kv_set(f"console/{token}", {"tenant": server.tenant, "datacenter": dc.id, "server": server.id})
    return Reply(200, {"url": f"{console_base(ctx)}{CONSOLE_PATH}{token}"})


def console_page(store: Store, token: str) -> Reply:
    """The page a remote console URL opens: the server's name and state (404 for a token never issued)."""
    entry = store.kv_get(f"console/{token}")
    server = store.find(entry["tenant"], SERVER.name, entry["server"]) if entry else None
    if server is None:
        return Reply(404, "<!doctype html><title>No console</title><p>This console link is not valid.</p>\n", {}, HTML)
    p = server.props
    title = html.escape(f"Console: {p.get('name') or server.id}")
    rows = "".join(
        f"<tr><th>{k}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in (("server", server.id), ("name", p.get("name")), ("state", server.meta.get("state")),
                     ("vmState", p.get("vmState")), ("datacenter", entry["datacenter"]))
    )  # fmt: skip
    page = f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head><body><h1>{title}</h1>"
    return Reply(200, f"{page}<table>{rows}</table></body></html>\n", {}, HTML)


HTML = "text/html; charset=utf-8"


@handler("datacentersServersTokenGet")
def server_token(ctx: Ctx) -> Reply:
    dc, server = load_chain(ctx, [(DATACENTER, "datacenterId"), (SERVER, "serverId")])
    return Reply(200, {"token": f"{server.id}.{server.meta.get('etag')}"})


# -- attached volumes -------------------------------------------------------------------------------


def _server_chain(ctx: Ctx):
    return load_chain(ctx, [(DATACENTER, "datacenterId"), (SERVER, "serverId")])


def _devices(ctx: Ctx, server) -> int:
    return len(ctx.store.list(ctx.tenant, "volume", server.parent, link=server.id)) + ctx.store.count(
        ctx.tenant, "nic", server.id
    )


@handler("datacentersServersVolumesGet")
def server_volumes(ctx: Ctx) -> Reply:
    dc, server = _server_chain(ctx)
    rows = ctx.store.list(ctx.tenant, "volume", dc.id, link=server.id)
    return Reply(200, collection(ctx, VOLUME, rows, f"{server.path}/volumes", f"{server.id}/volumes"))


def _attached(ctx: Ctx, dc, server):
    vol = ctx.store.get(ctx.tenant, "volume", dc.id, ctx.params["volumeId"])
    if vol is None or vol.link != server.id:
        raise ApiError(404, f"Resource does not exist: volume {ctx.params['volumeId']} on this server", "309")
    return vol


@handler("datacentersServersVolumesFindById")
def server_volume(ctx: Ctx) -> Reply:
    dc, server = _server_chain(ctx)
    return single(ctx, VOLUME, _attached(ctx, dc, server))


@handler("datacentersServersVolumesPost")
def attach_volume(ctx: Ctx) -> Reply:
    dc, server = _server_chain(ctx)
    body = ctx.body if isinstance(ctx.body, dict) else {}
    if _devices(ctx, server) + 1 > MAX_DEVICES:
        raise fail(f"A server can have at most {MAX_DEVICES} volumes and NICs together", vdc="VDC-5-1005")
    with Change(ctx, "volume", dc.id) as ch:
        if body.get("id") and not body.get("properties"):
            found = ctx.store.get(ctx.tenant, "volume", dc.id, body["id"])
            if found is None:
                raise ApiError(404, f"Resource does not exist: volume {body['id']}", "309")
            vol = found
            if vol.link and vol.link != server.id:
                raise fail("The volume is already attached to another server", vdc="VDC-9-11")
            if vol.props.get("type") == "DAS":
                raise fail("A DAS volume cannot be attached to a server after it was created", vdc="VDC-9-20")
            _mount(ctx, vol, server)
            ch.updated(VOLUME, vol)
        else:
            vp, secrets = volume_props(ctx, dc, props_of(body))
            vol = new_row(ctx, VOLUME, dc, vp)
            vol.x.update(secrets)
            _mount(ctx, vol, server)
            ch.created(VOLUME, vol)
        if server.props.get("bootVolume") is None and server.props.get("bootCdrom") is None:
            server.props["bootVolume"] = {"id": vol.id, "type": "volume", "href": ctx.href(vol.path)}
            ctx.store.update(server)
    return ch.accepted(full(ctx, VOLUME, vol, ctx.depth))


@handler("datacentersServersVolumesDelete")
def detach_volume(ctx: Ctx) -> Reply:
    dc, server = _server_chain(ctx)
    vol = _attached(ctx, dc, server)
    with Change(ctx, "volume", dc.id) as ch:
        ch.updated(VOLUME, vol)
        _detach_volume_from_boot(ctx, vol, ch)
        ch.effect("link", key(vol), link="")
        ch.effect("props", key(vol), set={"deviceNumber": None, "pciSlot": None, "bootServer": None})
    return ch.accepted(None)


# -- CD-ROMs: ISO images attached to a server; the row keeps the image's id and properties ------------

MAX_CDROMS = 2


def create_cdrom(ctx: Ctx, server, body, ch: Change):
    image_id = (body or {}).get("id")
    if not image_id:
        raise fail("attribute 'id' (the ISO image to attach) is required", vdc="VDC-1-2")
    img = catalogue.image(image_id)
    if img is None:
        private = ctx.store.get(ctx.tenant, "image", "", image_id)
        img = {"id": private.id, "properties": private.props, "metadata": private.meta} if private else None
    if img is None:
        raise ApiError(404, f"Resource does not exist: image {image_id}", "309")
    if img["properties"].get("imageType") != "CDROM":
        raise fail("Only ISO (CDROM) images can be attached as CD-ROMs", vdc="VDC-9-12")
    dc = stored(ctx.store.get(ctx.tenant, "datacenter", "", server.parent), f"data center of server {server.id}")
    if img["properties"].get("location") != dc.props["location"]:
        raise fail(f"The image is not available in location {dc.props['location']}", vdc="VDC-9-7")
    if ctx.store.count(ctx.tenant, "cdrom", server.id) >= MAX_CDROMS:
        raise fail(f"A server can have at most {MAX_CDROMS} CD-ROMs", vdc="VDC-9-13")
    if ctx.store.get(ctx.tenant, "cdrom", server.id, img["id"]) is not None:
        raise fail("This image is already attached to the server", vdc="VDC-9-14")
    row = new_row(ctx, CDROM, server, dict(img["properties"]), id=img["id"])
    return ch.created(CDROM, row)


CDROM = register(Kind("cdrom", "image", "cdroms", parent="server", create=create_cdrom))


def cdrom_create_handler(ctx: Ctx) -> Reply:
    dc, server = _server_chain(ctx)
    with Change(ctx, "cdrom", dc.id) as ch:
        row = create_cdrom(ctx, server, ctx.body, ch)
        ch.effect("props", key(server), set={"vmState": "RUNNING"})  # attaching a CD-ROM resets the server
    return ch.accepted(full(ctx, CDROM, row, ctx.depth))


API_HANDLERS["datacentersServersCdromsPost"] = cdrom_create_handler


def cdrom_delete_handler(ctx: Ctx) -> Reply:
    dc, server = _server_chain(ctx)
    row = load(ctx, CDROM, server, ctx.params["cdromId"])
    with Change(ctx, "cdrom", dc.id) as ch:
        if (server.props.get("bootCdrom") or {}).get("id") == row.id:
            ch.effect("props", key(server), set={"bootCdrom": None})
        ch.deleting(CDROM, row)
    return ch.accepted(None)


API_HANDLERS["datacentersServersCdromsDelete"] = cdrom_delete_handler
