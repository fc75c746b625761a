"""Network security groups (NSGs): groups of firewall rules in a data center, attached to servers and NICs.

Membership lives on the member (server/NIC `x["securitygroups"]`, ordered ids), so deleting a server or
NIC drops it; ids of deleted groups are skipped when read. A data center may have one default group
(`defaultSecurityGroupId`); every new server of the data center becomes a member of it.
"""

from __future__ import annotations

from ...engine.errors import ApiError
from ...gateway.context import Ctx, Reply
from .compute import DATACENTER, SERVER, handler
from .model import Change, Kind, apply_props, collection, full, load_chain, new_row, props_of, register, require
from .network import NIC, _rule_props, update_rule
from .rules import fail, limits

PRIVILEGE = "createNetworkSecurityGroups"


def _limit(ctx: Ctx, name: str, default: int) -> int:
    return int(limits(ctx).get(name, default))


# -- groups and their rules -------------------------------------------------------------------------


def _check_group_count(ctx: Ctx, dc) -> None:
    lim = _limit(ctx, "securityGroupsPerVdc", 100)
    if ctx.store.count(ctx.tenant, SECURITY_GROUP.name, dc.id) >= lim:
        raise fail(f"The data center already has the maximum of {lim} security groups", vdc="VDC-30-1")


def _check_rule_count(ctx: Ctx, group, adding: int) -> None:
    lim = _limit(ctx, "rulesPerSecurityGroup", 100)
    if ctx.store.count(ctx.tenant, RULE.name, group.id) + adding > lim:
        raise fail(f"A security group can hold at most {lim} rules", vdc="VDC-30-2")


def _add_rule(ctx: Ctx, group, props: dict, ch: Change):
    return ch.created(RULE, new_row(ctx, RULE, group, _rule_props(props)))


def _new_group(ctx: Ctx, dc, name: str, description: str, rules: list[dict], ch: Change):
    _check_group_count(ctx, dc)
    group = ch.created(SECURITY_GROUP, new_row(ctx, SECURITY_GROUP, dc, {"name": name, "description": description}))
    _check_rule_count(ctx, group, len(rules))
    for props in rules:
        _add_rule(ctx, group, props, ch)
    return group


def create_group(ctx: Ctx, dc, body, ch: Change):
    p = props_of(body)
    items = ((body.get("entities") or {}).get("rules") or {}).get("items") or []
    rules = [props_of(r, "entities.rules.items[].properties") for r in items]
    return _new_group(ctx, dc, p.get("name", ""), p.get("description", ""), rules, ch)


def update_group(ctx: Ctx, row, props, replace, ch):
    apply_props(row, props, replace, mutable=("name", "description"))


def delete_group(ctx: Ctx, row, ch):
    # a data center whose default group goes away has no default any more
    dc = ctx.store.get(ctx.tenant, DATACENTER.name, "", row.parent)
    if dc is not None and dc.props.get("defaultSecurityGroupId") == row.id:
        dc.props.pop("defaultSecurityGroupId")
        ctx.store.update(dc)


def _members(ctx: Ctx, group, kind: Kind):
    return kind, [
        r for r in ctx.store.list(ctx.tenant, kind.name, scope=group.scope) if group.id in r.x.get("securitygroups", [])
    ]


SECURITY_GROUP = register(
    Kind(
        "securitygroup",
        "security-group",
        "securitygroups",
        parent="datacenter",
        entities=("rules", "nics", "servers"),
        own_entities=("rules",),
        create=create_group,
        update=update_group,
        delete=delete_group,
        create_privilege=PRIVILEGE,
        entity_rows={"nics": lambda ctx, g: _members(ctx, g, NIC), "servers": lambda ctx, g: _members(ctx, g, SERVER)},
    )
)

RULE = register(Kind("securitygrouprule", "firewall-rule", "rules", parent="securitygroup", update=update_rule))


@handler("datacentersSecuritygroupsFirewallrulesPost")
def create_rule(ctx: Ctx) -> Reply:
    """The spec answers 200 here (not 202); the change is still tracked by a request and its Location."""
    require(ctx, PRIVILEGE, "adding a rule to a security group")
    dc, group = load_chain(ctx, [(DATACENTER, "datacenterId"), (SECURITY_GROUP, "securityGroupId")])
    with Change(ctx, RULE.name, dc.id) as ch:
        _check_rule_count(ctx, group, 1)
        row = _add_rule(ctx, group, props_of(ctx.body), ch)
    reply = ch.accepted(full(ctx, RULE, row, ctx.depth))
    reply.status = 200
    return reply


# -- attaching groups to servers and NICs -------------------------------------------------------------


def attached(ctx: Ctx, member) -> list:
    """The groups `member` belongs to, in the order they were given; groups deleted since are skipped."""
    rows = [
        ctx.store.get(ctx.tenant, SECURITY_GROUP.name, member.scope, gid) for gid in member.x.get("securitygroups", [])
    ]
    return [g for g in rows if g is not None]


def _wanted_groups(ctx: Ctx, dc) -> list:
    ids = list(dict.fromkeys((ctx.body or {}).get("ids") or []))  # repeated ids count once
    lim = _limit(ctx, "securityGroupsPerResource", 10)
    if len(ids) > lim:
        raise fail(f"At most {lim} security groups can be attached to a server or a NIC", vdc="VDC-30-3")
    groups = []
    for gid in ids:
        group = ctx.store.get(ctx.tenant, SECURITY_GROUP.name, dc.id, gid)
        if group is None:
            raise ApiError(404, f"Resource does not exist: security group {gid} in data center {dc.id}", "309")
        groups.append(group)
    return groups


def _attach(ctx: Ctx, dc, member, kind: Kind) -> Reply:
    groups = _wanted_groups(ctx, dc)
    with Change(ctx, kind.name, dc.id) as ch:
        member.x["securitygroups"] = [g.id for g in groups]
        ch.updated(kind, member)
    body = collection(ctx, SECURITY_GROUP, groups, f"{member.path}/securitygroups", f"{member.id}/securitygroups")
    reply = ch.accepted(body)
    reply.status = 200  # the spec's status for these PUTs
    return reply


@handler("datacentersServersSecuritygroupsPut")
def attach_to_server(ctx: Ctx) -> Reply:
    dc, server = load_chain(ctx, [(DATACENTER, "datacenterId"), (SERVER, "serverId")])
    return _attach(ctx, dc, server, SERVER)


@handler("datacentersServersNicsSecuritygroupsPut")
def attach_to_nic(ctx: Ctx) -> Reply:
    dc, _, nic = load_chain(ctx, [(DATACENTER, "datacenterId"), (SERVER, "serverId"), (NIC, "nicId")])
    return _attach(ctx, dc, nic, NIC)


def join(ctx: Ctx, member, ref, ch: Change) -> None:
    """A server or NIC created with `entities.securitygroups` joins the existing groups the items name by id."""
    gid = ref.get("id")
    group = ctx.store.get(ctx.tenant, SECURITY_GROUP.name, member.scope, str(gid))
    if group is None:
        raise ApiError(404, f"Resource does not exist: security group {gid} in data center {member.scope}", "309")
    ids = member.x.setdefault("securitygroups", [])
    if gid not in ids:
        ids.append(gid)
    lim = _limit(ctx, "securityGroupsPerResource", 10)
    if len(ids) > lim:
        raise fail(f"At most {lim} security groups can be attached to a server or a NIC", vdc="VDC-30-3")
    ctx.store.update(member)


for _member in (SERVER, NIC):
    _member.entity_rows["securitygroups"] = lambda ctx, row: (SECURITY_GROUP, attached(ctx, row))
    _member.attach["securitygroups"] = join


# -- the data center's default group --------------------------------------------------------------------


def _default_rules(dc) -> list[dict]:
    """All egress allowed; ingress from the private 10.0.0.0/24 and, when the data center has IPv6, its /56."""
    rules = [
        {"name": "Allow all IPv4 egress", "protocol": "ANY", "type": "EGRESS", "ipVersion": "IPv4"},
        {"name": "Allow all IPv6 egress", "protocol": "ANY", "type": "EGRESS", "ipVersion": "IPv6"},
        {
            "name": "Allow IPv4 ingress from 10.0.0.0/24",
            "protocol": "ANY",
            "type": "INGRESS",
            "ipVersion": "IPv4",
            "sourceIp": "10.0.0.0/24",
        },
    ]
    if dc.props.get("ipv6CidrBlock"):
        rules.append(
            {
                "name": "Allow IPv6 ingress from the data center",
                "protocol": "ANY",
                "type": "INGRESS",
                "ipVersion": "IPv6",
                "sourceIp": dc.props["ipv6CidrBlock"],
            }
        )
    return rules


def _apply_default_request(ctx: Ctx, dc, p: dict, ch: Change) -> None:
    """`createDefaultSecurityGroup` (make one if there is none) or `defaultSecurityGroupId` (an existing one)."""
    create, chosen = p.get("createDefaultSecurityGroup"), p.get("defaultSecurityGroupId")
    if create and chosen:
        raise fail("Give either 'createDefaultSecurityGroup' or 'defaultSecurityGroupId', not both", vdc="VDC-30-4")
    if chosen:
        if ctx.store.get(ctx.tenant, SECURITY_GROUP.name, dc.id, chosen) is None:
            raise fail(f"The security group '{chosen}' does not exist in this data center", vdc="VDC-30-5")
        dc.props["defaultSecurityGroupId"] = chosen
    elif create and not dc.props.get("defaultSecurityGroupId"):
        require(ctx, PRIVILEGE, "creating a default security group")
        group = _new_group(
            ctx, dc, "Default Security Group", "Default security group of the data center", _default_rules(dc), ch
        )
        dc.props["defaultSecurityGroupId"] = group.id


_OWN_DC_PROPS = ("createDefaultSecurityGroup", "defaultSecurityGroupId")


def _extend_datacenter(create, update):
    def create_dc(ctx: Ctx, parent, body, ch: Change):
        row = create(ctx, parent, body, ch)
        _apply_default_request(ctx, row, props_of(body), ch)
        ctx.store.update(row)
        return row

    def update_dc(ctx: Ctx, row, props, replace, ch: Change):
        own = {k: props[k] for k in _OWN_DC_PROPS if k in props}
        update(ctx, row, {k: v for k, v in props.items() if k not in _OWN_DC_PROPS}, replace, ch)
        _apply_default_request(ctx, row, own, ch)  # a PUT without them keeps the current default

    return create_dc, update_dc


def _extend_server(create):
    def create_server(ctx: Ctx, dc, body, ch: Change):
        server = create(ctx, dc, body, ch)
        default = dc.props.get("defaultSecurityGroupId")
        if default and ctx.store.get(ctx.tenant, SECURITY_GROUP.name, dc.id, default) is not None:
            server.x["securitygroups"] = [default]
            ctx.store.update(server)
        return server

    return create_server


# the data center and server kinds belong to compute; these rules only add to their hooks
DATACENTER.create, DATACENTER.update = _extend_datacenter(DATACENTER.create, DATACENTER.update)
SERVER.create = _extend_server(SERVER.create)
