"""Turns a compiled spec back into a minimal OpenAPI 3.0 document (structure only, no prose), served at
/_emulator/openapi/<api>.json so that tools such as schemathesis can test the emulator without ../shared."""

from __future__ import annotations

from typing import Any

from . import Spec


def _refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (v.replace("#/schemas/", "#/components/schemas/") if k == "$ref" and isinstance(v, str) else _refs(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_refs(v) for v in node]
    return node


def _references_allowed(schemas: dict) -> dict:
    """The real API lists depth-0 collection items as bare references {id, type, href} although the
    models mark `properties` required; drop that requirement so a checker accepts what clients receive."""
    out = {}
    for name, schema in schemas.items():
        req = schema.get("required") if isinstance(schema, dict) else None
        if req and "properties" in req and "id" in (schema.get("properties") or {}):
            schema = {**schema, "required": [r for r in req if r != "properties"]}
            if not schema["required"]:
                del schema["required"]
        out[name] = schema
    return out


def document(spec: Spec, server_url: str, *, allow_references: bool = True) -> dict:
    paths: dict[str, dict] = {}
    for op in spec.operations:
        entry: dict[str, Any] = {"operationId": op.id, "parameters": _refs(op.params), "responses": {}}
        if op.body and op.body.get("schema") is not None:
            types = op.body.get("mediaTypes") or ["application/json"]
            entry["requestBody"] = {
                "required": bool(op.body.get("required")),
                "content": {t: {"schema": _refs(op.body["schema"])} for t in types},
            }
        for status, resp in op.responses.items():
            r: dict[str, Any] = {"description": ""}
            if resp.get("schema") is not None:
                r["content"] = {
                    t: {"schema": _refs(resp["schema"])} for t in (resp.get("mediaTypes") or ["application/json"])
                }
            entry["responses"][status] = r
        entry["security"] = [{name: []} for name in op.security]
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.0.3",
        "info": {"title": spec.api, "version": spec.version},
        "servers": [{"url": server_url + spec.base_path}],
        "paths": paths,
        "components": {
            "schemas": _refs(_references_allowed(spec.schemas) if allow_references else spec.schemas),
            "securitySchemes": getattr(spec, "security_schemes", {}) or {},
        },
    }
