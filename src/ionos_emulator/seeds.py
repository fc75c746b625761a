"""Seeds: `serve --seed FILE` makes a world before the emulator serves: contracts, users, groups and resources
by API, every one created through the normal pipeline (the same validation, defaults and lifecycle as a
client's request), so every CI job can start from the same state. A seed is applied once per data dir
(remembered by its content's hash); a call that does not answer as expected stops the start with its answer.

    version: 1
    contracts:                         # more contracts; the default one always exists
      - {contractNumber: 31000002, owner: {email: b@example.com, password: secret-2}}
    users:                             # users of the default contract (or of `contract`), through /um/users
      - {email: dev@example.com, password: dev-pass-1, firstname: Dev, lastname: One}
    groups:                            # groups with privileges and members, through /um/groups
      - {name: developers, createDataCenter: true, members: [dev@example.com]}
    resources:                         # by API: calls in order, each may be named for later ${name.field}
      cloud:
        - {name: shop, path: /datacenters, body: {properties: {name: shop, location: de/fra}}}
        - {path: "/datacenters/${shop.id}/lans", body: {properties: {name: front, public: true}}}
      dns:
        - {path: /zones, body: {properties: {zoneName: example.com}}}

A call is {path, body, method (POST), api and location (from its section; a regional product's first location),
as: {email, password} (the contract owner), name, expect (a status; any 2xx by default)}."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .engine.lifecycle import Timing

_REF = re.compile(r"\$\{([A-Za-z0-9_-]+)((?:\.[A-Za-z0-9_-]+)*)\}")


class SeedError(Exception):
    pass


def read(path: str | Path) -> tuple[dict[str, Any], str]:
    """The seed document (YAML or JSON) and its content hash."""
    raw = Path(path).read_bytes()
    try:
        if str(path).endswith((".yaml", ".yml")):
            import yaml

            doc = yaml.safe_load(raw)
        else:
            doc = json.loads(raw)
    except (ValueError, ImportError) as e:
        raise SeedError(f"{path}: not a seed file ({e})") from None
    if not isinstance(doc, dict) or doc.get("version", 1) != 1:
        raise SeedError(f"{path}: a seed is a mapping with version 1")
    return doc, hashlib.sha256(raw).hexdigest()


def calls(doc: dict[str, Any], owner: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Every request the seed stands for, in order: contracts, users, groups (and their members), resources."""
    for c in doc.get("contracts") or []:
        yield {
            "admin": "contracts",
            "body": {
                "contractNumber": c["contractNumber"],
                "user": c["owner"]["email"],
                "password": c["owner"]["password"],
                "resourceLimits": c.get("resourceLimits") or {},
            },
        }
    owners = {c["contractNumber"]: c["owner"] for c in doc.get("contracts") or []}
    as_of = lambda item: owners.get(item.get("contract"), owner) if item.get("contract") else owner
    user_names = {}  # e-mail -> the internal name of the call that made the user
    for i, u in enumerate(doc.get("users") or []):
        props = {k: v for k, v in u.items() if k not in ("contract",)}
        props.setdefault("firstname", props["email"].split("@")[0])
        props.setdefault("lastname", "Seed")
        user_names[u["email"]] = f"seed_user_{i}"
        yield {
            "api": "cloud",
            "path": "/um/users",
            "body": {"properties": props},
            "as": as_of(u),
            "name": f"seed_user_{i}",
        }
    for j, g in enumerate(doc.get("groups") or []):
        props = {k: v for k, v in g.items() if k not in ("members", "contract")}
        name = f"seed_group_{j}"
        yield {"api": "cloud", "path": "/um/groups", "body": {"properties": props}, "as": as_of(g), "name": name}
        for email in g.get("members") or []:
            if email not in user_names:
                raise SeedError(f"group {g['name']}: member {email} is not among the seed's users")
            member = {"id": f"${{{user_names[email]}.id}}"}
            yield {"api": "cloud", "path": f"/um/groups/${{{name}.id}}/users", "body": member, "as": as_of(g)}
    for api, items in (doc.get("resources") or {}).items():
        for item in items or []:
            yield {"api": api, **item}


def substitute(value: Any, named: dict[str, Any]) -> Any:
    """`${name.field.field}` replaced by that field of a named call's answer (the whole string: the value)."""
    if isinstance(value, dict):
        return {k: substitute(v, named) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, named) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value

    def lookup(m: re.Match[str]) -> Any:
        if m.group(1) not in named:
            raise SeedError(f"'{m.group(0)}' names no earlier call")
        out = named[m.group(1)]
        for key in m.group(2).split(".")[1:]:
            if not isinstance(out, dict) or key not in out:
                raise SeedError(f"'{m.group(0)}': the answer of {m.group(1)} has no '{key}'")
            out = out[key]
        return out

    whole = _REF.fullmatch(value)
    if whole:
        return lookup(whole)
    return _REF.sub(lambda m: str(lookup(m)), value)


def apply(emu: Any, path: str | Path, progress: Callable[[int], None] | None = None) -> int:
    """Applies the seed at `path` to the emulator `emu` (not yet serving); the number of calls made (0 when this
    data dir has had this seed already)."""
    doc, digest = read(path)
    key = f"seed:applied:{digest}"
    if emu.store.kv_get(key):
        return 0
    owner = {"email": emu.settings.user, "password": emu.settings.password}
    planned = list(calls(doc, owner))
    named: dict[str, Any] = {}
    timing = emu.lifecycle.timing
    emu.lifecycle.timing = Timing("instant")  # each change done before the next call that may need it
    try:
        for n, call in enumerate(planned, 1):
            answer = _call(emu, substitute(call, named), n)
            if call.get("name"):
                named[call["name"]] = answer
            if progress:
                progress(1)
    finally:
        emu.lifecycle.timing = timing
    with emu.store.tx():
        emu.store.kv_set(key, {"file": str(path), "calls": len(planned)})
    return len(planned)


def _call(emu: Any, call: dict[str, Any], n: int) -> Any:
    from .app import basic_header, request_scope

    body = json.dumps(call.get("body", {})).encode()
    if "admin" in call:
        reply = emu.admin(
            "POST",
            f"/_emulator/{call['admin']}",
            {},
            body,
            _base(emu),
            basic_header(emu.settings.user, emu.settings.password),
        )
        what = f"call {n} (POST /_emulator/{call['admin']})"
    else:
        prefix = _prefix(emu, call["api"], call.get("location", ""), n)
        method = call.get("method", "POST").upper()
        url = prefix + call["path"]
        who = call.get("as") or {"email": emu.settings.user, "password": emu.settings.password}
        scope = request_scope(
            method,
            url,
            basic_header(who["email"], who["password"]),
            host=emu.settings.host,
            port=emu.settings.port,
        )
        reply, _ = emu.handle(scope, body if method in ("POST", "PUT", "PATCH") else b"")
        what = f"call {n} ({method} {url})"
    emu.lifecycle.settle()
    expected = call.get("expect")
    if (expected and reply.status != expected) or (not expected and not 200 <= reply.status < 300):
        detail = reply.body if not isinstance(reply.body, bytes) else reply.body[:500].decode("utf-8", "replace")
        raise SeedError(f"{what} answered {reply.status}: {json.dumps(detail)[:800]}")
    return reply.body


def _base(emu: Any) -> str:
    return f"http://{emu.settings.host}:{emu.settings.port}"


def _prefix(emu: Any, api: str, location: str, n: int) -> str:
    """The path prefix of an API by its config-file or mount name (the first location of a regional one)."""
    found = [a for a in emu.apis if api in (a.product, a.name) and (not location or a.location == location)]
    if not found:
        raise SeedError(f"call {n}: no API '{api}'" + (f" in {location}" if location else ""))
    return str(found[0].prefix)


__all__ = ["SeedError", "apply", "read"]
