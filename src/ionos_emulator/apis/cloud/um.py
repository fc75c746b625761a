"""User management (/um): users, groups with their privilege flags, members, shares, resources, S3 keys
(api-behaviour.md §6.9). Users are the identity's own rows, so a user created here logs in at once."""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ...engine.errors import ApiError, forbidden
from ...engine.resources import Kind as BaseKind  # any kind of the registry
from ...gateway.context import Ctx, Reply
from ...identity.service import GROUP_PRIVILEGES
from ...store import Row
from .compute import handler
from .model import REGISTRY, Change, Kind, collection, deletion, item, key, new_row, stamp
from .rules import fail

USER = Kind("user", "user", "um/users", entities=("owns", "groups"))
GROUP = Kind("group", "group", "um/groups", paginated=False, entities=("users", "resources"))
S3KEY = Kind("s3key", "s3key", "s3keys", parent="user", paginated=False)
MAX_S3_KEYS = 5


def _admin(ctx: Ctx) -> None:
    if not ctx.principal.admin:
        raise forbidden("Access Denied: user management needs an administrator")


def _self_or_admin(ctx: Ctx, user_id: str) -> None:
    if not ctx.principal.admin and ctx.principal.user_id != user_id:
        raise forbidden("Access Denied: user management needs an administrator")


def _user(ctx: Ctx, user_id: str | None = None) -> Row:
    uid = user_id or ctx.params["userId"]
    row = ctx.store.get(ctx.tenant, "user", "", uid)
    if row is None:
        raise ApiError(404, f"Resource does not exist: user {uid}", "309")
    return row


def _path_user(ctx: Ctx) -> Row:
    """The user the path names: an administrator may reach any, a user only themselves."""
    _self_or_admin(ctx, ctx.params["userId"])
    return _user(ctx)


def _group(ctx: Ctx) -> Row:
    row = ctx.store.get(ctx.tenant, "group", "", ctx.params["groupId"])
    if row is None:
        raise ApiError(404, f"Resource does not exist: group {ctx.params['groupId']}", "309")
    return row


def _admin_group(ctx: Ctx) -> Row:
    """The group the path names; every group operation needs an administrator."""
    _admin(ctx)
    return _group(ctx)


@contextmanager
def _rights_change(ctx: Ctx, kind: Kind, row: Row, *, deleting: bool = False) -> Iterator[Change]:
    """A change to a user or a group, which decide who may do what: `row` is written as updated (or as
    deleting) and, once committed, the identity forgets the principals it remembers."""
    with Change(ctx, kind.name) as ch:
        yield ch
        if deleting:
            ch.deleting(kind, row)
        else:
            ch.updated(kind, row)
    ctx.identity.changed()


# -- what a user owns and where they belong ---------------------------------------------------------


def shareable_rows(ctx: Ctx, type_name: str | None = None) -> list[tuple[BaseKind, Row]]:
    """Every resource of the contract that can be shared with groups (/um/resources)."""
    out = []
    for kind in REGISTRY.by_name.values():
        if kind.shareable and kind.parent is None and type_name in (None, kind.type):
            out += [(kind, r) for r in ctx.store.list(ctx.tenant, kind.name, "")]
    return out


def _coll(ctx: Ctx, owner: Row, name: str, items: list | None = None) -> dict:
    """The collection <owner>/<name> (not paged), with its items unless it is only referred to."""
    coll: dict[str, Any] = {"id": f"{owner.id}/{name}", "type": "collection", "href": ctx.href(f"{owner.path}/{name}")}
    if items is not None:
        coll["items"] = items
    return coll


def _resource_item(ctx: Ctx, kind: BaseKind, row: Row, level: int) -> dict:
    ref = {"id": row.id, "type": kind.type, "href": ctx.href(row.path)}
    if level <= 0:
        return ref
    groups = [g for g in ctx.store.list(ctx.tenant, "group", "") if row.id in g.x.get("shares", {})]
    return {
        **ref,
        "metadata": dict(row.meta),
        "properties": {
            "name": row.props.get("name", ""),
            "secAuthProtection": bool(row.props.get("secAuthProtection", False)),
        },
        "entities": {
            "groups": {
                "id": f"{row.id}/groups",
                "type": "collection",
                "href": ctx.href(f"um/resources/{kind.type}/{row.id}/groups"),
                "items": [item(ctx, GROUP, g, 0) for g in groups],
            }
        },
    }


def _owned(ctx: Ctx, user: Row) -> list[tuple[BaseKind, Row]]:
    return [(k, r) for k, r in shareable_rows(ctx) if r.meta.get("createdByUserId") == user.id]


def _groups_of(ctx: Ctx, user: Row) -> list[Row]:
    return [g for g in ctx.store.list(ctx.tenant, "group", "") if user.id in g.x.get("members", [])]


def _user_entities(ctx: Ctx, user: Row, level: int) -> dict:
    if level <= 0:
        return {"owns": _coll(ctx, user, "owns"), "groups": _coll(ctx, user, "groups")}
    return {
        "owns": _coll(ctx, user, "owns", [_resource_item(ctx, k, r, level - 1) for k, r in _owned(ctx, user)]),
        "groups": _coll(ctx, user, "groups", [item(ctx, GROUP, g, level - 1) for g in _groups_of(ctx, user)]),
    }


def user_view(ctx: Ctx, user: Row, level: int) -> dict:
    meta = {k: v for k, v in user.meta.items() if v is not None}
    meta.setdefault("createdDate", meta.get("lastModifiedDate"))
    return {
        "id": user.id,
        "type": "user",
        "href": ctx.href(user.path),
        "metadata": meta,
        "properties": dict(user.props),
        "entities": _user_entities(ctx, user, level),
    }


def group_view(ctx: Ctx, group: Row, level: int) -> dict:
    members = [_user(ctx, uid) for uid in group.x.get("members", [])]
    shared = [(k, r) for k, r in shareable_rows(ctx) if r.id in group.x.get("shares", {})]
    users = [
        user_view(ctx, u, 0) if level > 1 else {"id": u.id, "type": "user", "href": ctx.href(u.path)} for u in members
    ]
    resources = [_resource_item(ctx, k, r, level - 1) for k, r in shared]
    return {
        "id": group.id,
        "type": "group",
        "href": ctx.href(group.path),
        "properties": dict(group.props),
        "entities": {
            "users": _coll(ctx, group, "users", users if level > 0 else None),
            "resources": _coll(ctx, group, "resources", resources if level > 0 else None),
        },
    }


# -- users ------------------------------------------------------------------------------------------


@handler("umUsersGet")
def users(ctx: Ctx) -> Reply:
    _admin(ctx)
    rows = ctx.store.list(ctx.tenant, "user", "")
    body = collection(ctx, USER, rows, "um/users", "users")
    if ctx.depth >= 1:
        page_ids = [it["id"] for it in body["items"]]
        by_id = {r.id: r for r in rows}
        body["items"] = [user_view(ctx, by_id[i], ctx.depth - 1) for i in page_ids]
    return Reply(200, body)


handler("umUsersFindById")(lambda ctx: Reply(200, user_view(ctx, _path_user(ctx), ctx.depth)))


@handler("umUsersPost")
def create_user(ctx: Ctx) -> Reply:
    _admin(ctx)
    p = (ctx.body or {}).get("properties") or {}
    for attr in ("firstname", "lastname", "email", "password"):
        if not p.get(attr):
            raise fail(f"attribute 'properties.{attr}' is required", vdc="VDC-1-2")
    email = p["email"].strip()
    if "@" not in email:
        raise fail(f"'{email}' is not a valid e-mail address", vdc="VDC-2-2")
    if ctx.store.kv_get(f"login:{email.lower()}") is not None:
        raise fail(f"A user with the e-mail address {email} already exists", vdc="VDC-2-3")
    with Change(ctx, "user") as ch:
        row = ctx.identity.create_user(
            ctx.tenant,
            email=email,
            password=p["password"],  # held to the contract's password policy (identity)
            attr="properties.password",
            firstname=p["firstname"],
            lastname=p["lastname"],
            administrator=bool(p.get("administrator", False)),
            force_sec_auth=bool(p.get("forceSecAuth", False)),
        )
        row.props["active"] = bool(p.get("active", True))
        stamp(ctx, row)
        row.meta.update(
            createdDate=row.meta["lastModifiedDate"],
            createdBy=ctx.principal.email,
            createdByUserId=ctx.principal.user_id,
            state="BUSY",
        )
        ctx.store.update(row)
        ch.target(USER, row)
        ch.effect("state", key(row), state="AVAILABLE")
    return ch.accepted(user_view(ctx, row, ctx.depth))


@handler("umUsersPut")
def update_user(ctx: Ctx) -> Reply:
    _admin(ctx)
    row = _user(ctx)
    p = (ctx.body or {}).get("properties") or {}
    if row.x.get("owner") and (p.get("administrator") is False or p.get("active") is False):
        raise fail("The contract owner cannot be demoted or deactivated", vdc="VDC-2-4")
    with _rights_change(ctx, USER, row) as ch:
        old_email = row.props["email"]
        new_email = (p.get("email") or old_email).strip()
        if new_email.lower() != old_email.lower():
            if ctx.store.kv_get(f"login:{new_email.lower()}") is not None:
                raise fail(f"A user with the e-mail address {new_email} already exists", vdc="VDC-2-3")
            login = ctx.store.kv_get(f"login:{old_email.lower()}")
            ctx.store.kv_delete(f"login:{old_email.lower()}")
            ctx.store.kv_set(f"login:{new_email.lower()}", login)
        for attr in ("firstname", "lastname", "administrator", "forceSecAuth", "secAuthActive", "active"):
            if attr in p:
                row.props[attr] = p[attr]
        row.props["email"] = new_email
        if p.get("password"):  # credentials change with the rights
            ctx.identity.set_password(new_email, p["password"], attr="properties.password")
    return ch.accepted(user_view(ctx, row, ctx.depth))


@handler("umUsersDelete")
def delete_user(ctx: Ctx) -> Reply:
    _admin(ctx)
    row = _user(ctx)
    if row.x.get("owner"):
        raise fail("The contract owner cannot be deleted", vdc="VDC-2-5")
    with _rights_change(ctx, USER, row, deleting=True) as ch:
        ctx.store.kv_delete(f"login:{row.props['email'].lower()}")
        for t in ctx.identity.tokens_of_user(row.id):
            ctx.identity.delete_token(t["id"])
        for g in _groups_of(ctx, row):
            g.x["members"] = [m for m in g.x["members"] if m != row.id]
            ctx.store.update(g)
    return ch.accepted(None)


@handler("umUsersGroupsGet")
def user_groups(ctx: Ctx) -> Reply:
    u = _path_user(ctx)
    items = [
        item(ctx, GROUP, g, ctx.depth) if ctx.depth == 0 else group_view(ctx, g, ctx.depth - 1)
        for g in _groups_of(ctx, u)
    ]
    return Reply(200, _coll(ctx, u, "groups", items))


@handler("umUsersOwnsGet")
def user_owns(ctx: Ctx) -> Reply:
    u = _path_user(ctx)
    return Reply(200, _coll(ctx, u, "owns", [_resource_item(ctx, k, r, ctx.depth) for k, r in _owned(ctx, u)]))


# -- groups -----------------------------------------------------------------------------------------


def _group_props(p: dict, old: dict | None = None) -> dict:
    if not p.get("name") and not (old or {}).get("name"):
        raise fail("attribute 'properties.name' is required", vdc="VDC-1-2")
    props = {"name": p.get("name") or (old or {}).get("name")}  # one of them has a name: checked above
    for flag in GROUP_PRIVILEGES:  # PUT replaces: a flag not given is false
        props[flag] = bool(p.get(flag, False))
    return props


@handler("umGroupsGet")
def groups(ctx: Ctx) -> Reply:
    _admin(ctx)
    rows = ctx.store.list(ctx.tenant, "group", "")
    return Reply(
        200,
        {
            "id": "groups",
            "type": "collection",
            "href": ctx.href("um/groups"),
            "items": [item(ctx, GROUP, g, 0) if ctx.depth == 0 else group_view(ctx, g, ctx.depth - 1) for g in rows],
        },
    )


handler("umGroupsFindById")(lambda ctx: Reply(200, group_view(ctx, _admin_group(ctx), ctx.depth)))


@handler("umGroupsPost")
def create_group(ctx: Ctx) -> Reply:
    _admin(ctx)
    props = _group_props((ctx.body or {}).get("properties") or {})
    with Change(ctx, "group") as ch:
        row = ch.created(GROUP, new_row(ctx, GROUP, None, props))
        row.x.update(members=[], shares={})
        ctx.store.update(row)
    return ch.accepted(group_view(ctx, row, ctx.depth))


@handler("umGroupsPut")
def update_group(ctx: Ctx) -> Reply:
    row = _admin_group(ctx)
    with _rights_change(ctx, GROUP, row) as ch:
        row.doc["properties"] = _group_props((ctx.body or {}).get("properties") or {}, row.props)
    return ch.accepted(group_view(ctx, row, ctx.depth))


@handler("umGroupsDelete")
def delete_group(ctx: Ctx) -> Reply:
    reply = deletion(ctx, GROUP, _admin_group(ctx))
    ctx.identity.changed()  # its members lose what it granted
    return reply


@handler("umGroupsUsersGet")
def group_users(ctx: Ctx) -> Reply:
    g = _admin_group(ctx)
    items = [
        user_view(ctx, _user(ctx, uid), ctx.depth - 1)
        if ctx.depth
        else {"id": uid, "type": "user", "href": ctx.href(f"um/users/{uid}")}
        for uid in g.x.get("members", [])
    ]
    return Reply(200, _coll(ctx, g, "users", items))


@handler("umGroupsUsersPost")
def add_group_user(ctx: Ctx) -> Reply:
    g = _admin_group(ctx)
    uid = (ctx.body or {}).get("id")
    u = _user(ctx, uid or "-")
    if uid in g.x.get("members", []):
        raise fail(f"User {uid} is already a member of group {g.id}", vdc="VDC-2-6")
    with _rights_change(ctx, GROUP, g) as ch:
        g.x.setdefault("members", []).append(uid)
    return ch.accepted(user_view(ctx, u, ctx.depth))


@handler("umGroupsUsersDelete")
def remove_group_user(ctx: Ctx) -> Reply:
    g = _admin_group(ctx)
    uid = ctx.params["userId"]
    if uid not in g.x.get("members", []):
        raise ApiError(404, f"Resource does not exist: user {uid} in group {g.id}", "309")
    with _rights_change(ctx, GROUP, g) as ch:
        g.x["members"] = [m for m in g.x["members"] if m != uid]
    return ch.accepted(None)


@handler("umGroupsResourcesGet")
def group_resources(ctx: Ctx) -> Reply:
    g = _admin_group(ctx)
    shared = [(k, r) for k, r in shareable_rows(ctx) if r.id in g.x.get("shares", {})]
    return Reply(200, _coll(ctx, g, "resources", [_resource_item(ctx, k, r, ctx.depth) for k, r in shared]))


# -- shares -----------------------------------------------------------------------------------------


def _share_view(ctx: Ctx, g: Row, rid: str, share: dict) -> dict:
    return {
        "id": rid,
        "type": "resource",
        "href": ctx.href(f"{g.path}/shares/{rid}"),
        "properties": {
            "editPrivilege": bool(share.get("editPrivilege")),
            "sharePrivilege": bool(share.get("sharePrivilege")),
        },
    }


def _shareable(ctx: Ctx, rid: str) -> Row:
    for _, row in shareable_rows(ctx):
        if row.id == rid:
            return row
    raise ApiError(
        404,
        f"Resource does not exist: {rid} (only data centers, images, snapshots, IP blocks, "
        "backup units, Kubernetes clusters and cross-connects can be shared)",
        "309",
    )


@handler("umGroupsSharesGet")
def shares(ctx: Ctx) -> Reply:
    g = _admin_group(ctx)
    items = [
        _share_view(ctx, g, rid, s)
        if ctx.depth
        else {"id": rid, "type": "resource", "href": ctx.href(f"{g.path}/shares/{rid}")}
        for rid, s in g.x.get("shares", {}).items()
    ]
    return Reply(200, _coll(ctx, g, "shares", items))


@handler("umGroupsSharesFindByResourceId")
def share(ctx: Ctx) -> Reply:
    g = _admin_group(ctx)
    s = g.x.get("shares", {}).get(ctx.params["resourceId"])
    if s is None:
        raise ApiError(404, f"Resource does not exist: share of {ctx.params['resourceId']}", "309")
    return Reply(200, _share_view(ctx, g, ctx.params["resourceId"], s))


def _put_share(ctx: Ctx, create: bool) -> Reply:
    g = _admin_group(ctx)
    rid = ctx.params["resourceId"]
    _shareable(ctx, rid)
    existing = g.x.get("shares", {}).get(rid)
    if create and existing is not None:
        raise fail(f"Resource {rid} is already shared with group {g.id}", vdc="VDC-2-7")
    if not create and existing is None:
        raise ApiError(404, f"Resource does not exist: share of {rid}", "309")
    p = (ctx.body or {}).get("properties") if isinstance(ctx.body, dict) else None
    if not create and not p:
        # an empty PUT changes nothing and answers the current share with 200 (api-behaviour.md §2.1)
        return Reply(200, _share_view(ctx, g, rid, existing))
    share = {
        "editPrivilege": bool((p or {}).get("editPrivilege", False)),
        "sharePrivilege": bool((p or {}).get("sharePrivilege", False)),
    }
    with Change(ctx, "group") as ch:
        g.x.setdefault("shares", {})[rid] = share
        ch.updated(GROUP, g)
    return ch.accepted(_share_view(ctx, g, rid, share))


handler("umGroupsSharesPost")(lambda ctx: _put_share(ctx, True))
handler("umGroupsSharesPut")(lambda ctx: _put_share(ctx, False))


@handler("umGroupsSharesDelete")
def delete_share(ctx: Ctx) -> Reply:
    g = _admin_group(ctx)
    rid = ctx.params["resourceId"]
    if rid not in g.x.get("shares", {}):
        raise ApiError(404, f"Resource does not exist: share of {rid}", "309")
    with Change(ctx, "group") as ch:
        del g.x["shares"][rid]
        ch.updated(GROUP, g)
    return ch.accepted(None)


# -- /um/resources ----------------------------------------------------------------------------------


@handler("umResourcesGet")
def resources(ctx: Ctx) -> Reply:
    _admin(ctx)
    return Reply(
        200,
        {
            "id": "resources",
            "type": "collection",
            "href": ctx.href("um/resources"),
            "items": [_resource_item(ctx, k, r, ctx.depth) for k, r in shareable_rows(ctx)],
        },
    )


def _resource_type(ctx: Ctx) -> str:
    t = ctx.params["resourceType"]
    known = sorted({k.type for k in REGISTRY.by_name.values() if k.shareable and k.parent is None})
    if t not in known:
        raise ApiError(404, f"Resource does not exist: resource type '{t}' (one of {', '.join(known)})", "309")
    return t


@handler("umResourcesFindByType")
def resources_of_type(ctx: Ctx) -> Reply:
    _admin(ctx)
    t = _resource_type(ctx)
    return Reply(
        200,
        {
            "id": t,
            "type": "collection",
            "href": ctx.href(f"um/resources/{t}"),
            "items": [_resource_item(ctx, k, r, ctx.depth) for k, r in shareable_rows(ctx, t)],
        },
    )


@handler("umResourcesFindByTypeAndId")
def resource(ctx: Ctx) -> Reply:
    _admin(ctx)
    for k, r in shareable_rows(ctx, _resource_type(ctx)):
        if r.id == ctx.params["resourceId"]:
            return Reply(200, _resource_item(ctx, k, r, max(1, ctx.depth)))
    raise ApiError(404, f"Resource does not exist: {ctx.params['resourceType']} {ctx.params['resourceId']}", "309")


# -- S3 keys ----------------------------------------------------------------------------------------


def _new_key_id() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(20))


def _s3key_view(ctx: Ctx, row: Row, level: int = 1) -> dict:
    ref = {"id": row.id, "type": "s3key", "href": ctx.href(row.path)}
    if level <= 0:
        return ref
    meta = {k: v for k, v in row.meta.items() if k != "state"}
    return {**ref, "metadata": meta, "properties": dict(row.props)}


@handler("umUsersS3keysGet")
def s3keys(ctx: Ctx) -> Reply:
    u = _path_user(ctx)
    return Reply(
        200,
        _coll(ctx, u, "s3keys", [_s3key_view(ctx, k, ctx.depth) for k in ctx.store.list(ctx.tenant, "s3key", u.id)]),
    )


def _s3key(ctx: Ctx) -> Row:
    """The S3 key the path names, of the user it names."""
    row = ctx.store.get(ctx.tenant, "s3key", _path_user(ctx).id, ctx.params["keyId"])
    if row is None:
        raise ApiError(404, f"Resource does not exist: S3 key {ctx.params['keyId']}", "309")
    return row


handler("umUsersS3keysFindByKeyId")(lambda ctx: Reply(200, _s3key_view(ctx, _s3key(ctx))))


@handler("umUsersS3keysPost")
def create_s3key(ctx: Ctx) -> Reply:
    u = _path_user(ctx)
    if ctx.store.count(ctx.tenant, "s3key", u.id) >= MAX_S3_KEYS:
        raise fail(f"A user can have at most {MAX_S3_KEYS} S3 keys", vdc="VDC-2-8")
    secret = "".join(secrets.choice(string.ascii_letters + string.digits + "+/") for _ in range(40))
    with Change(ctx, "s3key") as ch:
        row = new_row(ctx, S3KEY, u, {"secretKey": secret, "active": True}, id=_new_key_id())
        ch.created(S3KEY, row)
    return ch.accepted(_s3key_view(ctx, row))


@handler("umUsersS3keysPut")
def update_s3key(ctx: Ctx) -> Reply:
    row = _s3key(ctx)
    p = (ctx.body or {}).get("properties") or {}
    with Change(ctx, "s3key") as ch:
        if "active" in p:
            row.props["active"] = bool(p["active"])
        ch.updated(S3KEY, row)
    return ch.accepted(_s3key_view(ctx, row))


@handler("umUsersS3keysDelete")
def delete_s3key(ctx: Ctx) -> Reply:
    return deletion(ctx, S3KEY, _s3key(ctx))


@handler("umUsersS3ssourlGet")
def s3_sso(ctx: Ctx) -> Reply:
    u = _path_user(ctx)
    return Reply(200, {"ssoUrl": f"{ctx.base_url}/_emulator/s3-sso/{u.id}"})
