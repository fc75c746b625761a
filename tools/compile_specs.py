#!/usr/bin/env python3
"""Compile the IONOS OpenAPI specs into the emulator's compact JSON format.

Only the *structure* of the specs is kept (paths, methods, operation ids,
parameters, schemas and their validation keywords).  All prose (descriptions,
summaries, examples, titles, tags, external docs, vendor extensions) is dropped.

Usage: python tools/compile_specs.py [--specs DIR]

The Cloud API and Auth API specs compile to cloud.json and auth.json, the product specs (PRODUCT_SOURCES)
to their own files; known defects of the upstream documents are corrected on the way (CORRECTIONS).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import yaml

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "src" / "ionos_emulator" / "spec" / "data"
DEFAULT_SPECS = REPO.parent / "shared" / "specs"

SOURCES = {"cloud": "cloud-v6.yaml", "auth": "auth-v1.yaml"}
# Product APIs with a spec file of their own.  Their output also records the spec's "servers"
# (cloud.json and auth.json predate that and are left as they are).  The products described only by
# an official Python SDK are compiled by tools/compile_sdk_specs.py.
PRODUCT_SOURCES = {
    "dns": "dns-v1.yaml",
    # the upstream originals, supersets of the SDKs' re-serialisations (dbaas-postgres-v1.yaml adds no
    # users/databases/versions, dbaas-mongo-v1.yaml no versions); see ../shared/specs/SOURCES.md
    "postgresql-v1": "dbaas-postgres-1.0.0-upstream.yaml",
    "mongodb": "dbaas-mongo-1.0.0-upstream.yaml",
    # the first generation of two regional APIs, still called by current tools beside their v2
    "mariadb-v1": "dbaas-mariadb-0.1.0.yaml",
    "inmemorydb-v1": "dbaas-inmemorydb-1.0.0.yaml",
    "certmanager-v1": "cert-manager-v1.yaml",
    "containerregistry-v1": "container-registry-v1.yaml",
    "cdn": "cdn-v1.yaml",
    "autoscaling-v1": "vm-autoscaling-v1.yaml",
    # account, audit and billing APIs (issue 13)
    "activitylog": "activitylog-v1.yaml",
    "billing": "billing-3.9.0.yaml",
    "reseller": "reseller-2.0.yaml",
    "identity": "identity-password-policies-1.0.0.yaml",
    # no official Python SDK: served from the spec files
    "monitoring": "monitoring-0.0.1.yaml",
    "nfs": "nfs-0.1.6.yaml",
}
# not compiled: object-storage-s3-v2.yaml (an XML API; needs its own treatment)
# APIs IONOS publishes no OpenAPI file for: specs written for the emulator in this repository's specs/ (each
# file's header says where its structure comes from; docs/fidelity.md has the detail)
OWN_SOURCES = {"aimodelhub": "aimodelhub.yaml", "openai": "openai-compatible.yaml"}
OWN_SPECS = REPO / "specs"

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Schema keywords that carry structure / validation rules.  Everything else
# (description, example, title, x-*, ...) is dropped.
SCALAR_KEYWORDS = {
    "type",
    "format",
    "enum",
    "default",
    "nullable",
    "readOnly",
    "writeOnly",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "required",
    "deprecated",
}
SCHEMA_LIST_KEYWORDS = ("allOf", "oneOf", "anyOf")
SCHEMA_KEYWORDS = ("items", "not")
PROSE_KEYS = {"description", "summary", "example", "examples", "title", "tags", "externalDocs"}

SCHEMA_REF_PREFIX = "#/components/schemas/"


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SpecLoader(_BaseLoader):
    """(C)SafeLoader that keeps timestamps as plain strings."""


SpecLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class Compiler:
    def __init__(self, doc: dict, name: str):
        self.doc = doc
        self.name = name
        self.components = doc.get("components") or {}
        self.dropped: set[str] = set()

    # -- references -----------------------------------------------------
    def resolve(self, obj: dict, kind: str) -> dict:
        """Follow (possibly chained) #/components/<kind>/X references."""
        seen = set()
        while isinstance(obj, dict) and "$ref" in obj:
            ref = obj["$ref"]
            prefix = f"#/components/{kind}/"
            if not ref.startswith(prefix) or ref in seen:
                raise ValueError(f"{self.name}: cannot resolve {ref!r} as {kind}")
            seen.add(ref)
            obj = self.components[kind][ref[len(prefix) :]]
        return obj

    def rewrite_ref(self, ref: str) -> str:
        if ref.startswith(SCHEMA_REF_PREFIX):
            target = ref[len(SCHEMA_REF_PREFIX) :]
            if target not in (self.components.get("schemas") or {}):
                raise ValueError(f"{self.name}: dangling schema ref {ref!r}")
            return "#/schemas/" + target
        raise ValueError(f"{self.name}: unsupported schema ref {ref!r}")

    # -- schemas --------------------------------------------------------
    def schema(self, s):
        if not isinstance(s, dict):
            # boolean schemas (additionalProperties: true/false) are kept as is
            return s
        out: dict = {}
        for key, value in s.items():
            if key == "$ref":
                out["$ref"] = self.rewrite_ref(value)
            elif key in SCALAR_KEYWORDS:
                out[key] = value
            elif key == "properties":
                out["properties"] = {pname: self.schema(ps) for pname, ps in value.items()}
            elif key == "additionalProperties":
                out[key] = self.schema(value)
            elif key in SCHEMA_KEYWORDS:
                out[key] = self.schema(value)
            elif key in SCHEMA_LIST_KEYWORDS:
                out[key] = [self.schema(v) for v in value]
            elif key == "discriminator":
                disc = {"propertyName": value["propertyName"]}
                if "mapping" in value:
                    disc["mapping"] = {
                        k: (self.rewrite_ref(v) if v.startswith("#/") else v) for k, v in value["mapping"].items()
                    }
                out[key] = disc
            else:
                if key not in PROSE_KEYS and not key.startswith("x-"):
                    self.dropped.add(key)
        return out

    # -- operations -----------------------------------------------------
    def parameter(self, p: dict) -> dict:
        p = self.resolve(p, "parameters")
        out = {
            "name": p["name"],
            "in": p["in"],
            "required": bool(p.get("required", p["in"] == "path")),
            "schema": self.schema(p.get("schema") or {}),
        }
        for key in ("style", "explode", "allowEmptyValue", "deprecated"):
            if key in p:
                out[key] = p[key]
        return out

    @staticmethod
    def pick_media(content: dict) -> str | None:
        if not content:
            return None
        for mt in ("application/json", "*/*"):
            if mt in content:
                return mt
        for mt in content:
            if "json" in mt:
                return mt
        return next(iter(content))

    def body(self, rb: dict | None):
        if not rb:
            return None
        rb = self.resolve(rb, "requestBodies")
        content = rb.get("content") or {}
        mt = self.pick_media(content)
        if mt is None:
            return None
        schema = content[mt].get("schema")
        return {
            "required": bool(rb.get("required", False)),
            "schema": self.schema(schema) if schema is not None else None,
            "mediaTypes": list(content),
        }

    def response(self, r: dict) -> dict:
        r = self.resolve(r, "responses")
        content = r.get("content") or {}
        mt = self.pick_media(content)
        schema = content[mt].get("schema") if mt else None
        return {
            "schema": self.schema(schema) if schema is not None else None,
            "headers": list((r.get("headers") or {}).keys()),
            "mediaTypes": list(content),
        }

    def security(self, op: dict) -> list[str]:
        reqs = op["security"] if "security" in op else (self.doc.get("security") or [])
        names: list[str] = []
        for req in reqs or []:
            for n in req:
                if n not in names:
                    names.append(n)
        return names

    def compile(self, with_servers: bool = False) -> dict:
        apply_corrections(self.doc, self.name)
        info = self.doc.get("info") or {}
        servers = self.doc.get("servers") or [{"url": "/"}]
        base_path = urlparse(servers[0]["url"]).path.rstrip("/")
        ops = []
        seen_ids = set()
        for path, item in (self.doc.get("paths") or {}).items():
            path_params = [self.parameter(p) for p in item.get("parameters") or []]
            for method in HTTP_METHODS:
                op = item.get(method)
                if op is None:
                    continue
                params = {(p["name"], p["in"]): p for p in path_params}
                for p in op.get("parameters") or []:
                    cp = self.parameter(p)
                    params[(cp["name"], cp["in"])] = cp
                op_id = op.get("operationId") or f"{method}:{path}"
                if op_id in seen_ids:
                    raise ValueError(f"{self.name}: duplicate operationId {op_id}")
                seen_ids.add(op_id)
                entry = {
                    "id": op_id,
                    "method": method.upper(),
                    "path": path,
                    "params": list(params.values()),
                    "body": self.body(op.get("requestBody")),
                    "responses": {str(code): self.response(r) for code, r in (op.get("responses") or {}).items()},
                    "security": self.security(op),
                }
                if op.get("deprecated"):
                    entry["deprecated"] = True
                ops.append(entry)
        schemas = {name: self.schema(s) for name, s in (self.components.get("schemas") or {}).items()}
        security_schemes = {
            name: {k: v for k, v in scheme.items() if k in ("type", "scheme", "in", "name", "bearerFormat")}
            for name, scheme in (self.components.get("securitySchemes") or {}).items()
        }
        out = {
            "api": self.name,
            "basePath": base_path,
            "version": str(info.get("version", "")),
            "operations": ops,
            "schemas": schemas,
            "securitySchemes": security_schemes,
        }
        if with_servers:
            out["servers"] = [{"url": srv["url"]} for srv in servers]
        return out


# -- corrections ---------------------------------------------------------------------------------
# Known defects of the official specs, corrected at compile time on the parsed document (before it is
# compiled).  Each correction names what it expects to find, so a spec that was fixed upstream (or
# changed) is reported instead of being silently rewritten.


class Unrequire:
    """Drop `field` from the `required` list of components.schemas[schema]."""

    def __init__(self, schema: str, field: str, why: str):
        self.schema, self.field, self.why = schema, field, why

    def apply(self, doc: dict) -> bool:
        target = ((doc.get("components") or {}).get("schemas") or {}).get(self.schema) or {}
        req = target.get("required") or []
        if self.field not in req:
            return False
        req.remove(self.field)
        if not req:
            del target["required"]
        return True


class RenameRequired:
    """Replace `old` by `new` in the `required` list of components.schemas[schema]."""

    def __init__(self, schema: str, old: str, new: str, why: str):
        self.schema, self.old, self.new, self.why = schema, old, new, why

    def apply(self, doc: dict) -> bool:
        target = ((doc.get("components") or {}).get("schemas") or {}).get(self.schema) or {}
        req = target.get("required") or []
        if self.old not in req:
            return False
        req[req.index(self.old)] = self.new
        return True


class Replace:
    """Set the value at `path` (keys and list indices from the document root) to `new`; it must
    currently be `old`."""

    def __init__(self, path: tuple, old, new, why: str):
        self.path, self.old, self.new, self.why = path, old, new, why

    def apply(self, doc: dict) -> bool:
        node = doc
        for key in self.path:
            parent = node
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                node = node[key]
            else:
                return False
        if node != self.old:
            return False
        parent[self.path[-1]] = self.new
        return True


class Rebase:
    """Move `prefix`, which every path of the document starts with, from the paths into the server URL: the
    API is then served at that prefix like the others (its base path), its paths below it."""

    def __init__(self, prefix: str, why: str):
        self.prefix, self.why = prefix, why

    def apply(self, doc: dict) -> bool:
        paths = doc.get("paths") or {}
        if not paths or not all(p == self.prefix or p.startswith(self.prefix + "/") for p in paths):
            return False
        doc["paths"] = {(p[len(self.prefix) :] or "/"): item for p, item in paths.items()}
        for server in doc.get("servers") or [{"url": ""}]:
            server["url"] = server["url"].rstrip("/") + self.prefix
        return True


class AnyOf:
    """Turn the `oneOf` of the schema at `path` into an `anyOf`: its branches require nothing and allow more, so
    every document matches all of them and no answer could satisfy the `oneOf`."""

    def __init__(self, path: tuple, why: str):
        self.path, self.why = path, why

    def apply(self, doc: dict) -> bool:
        node = doc
        for key in self.path:
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict) or "oneOf" not in node:
            return False
        node["anyOf"] = node.pop("oneOf")
        return True


def _schema_path(*keys: str) -> tuple:
    return ("components", "schemas") + keys


CORRECTIONS = {
    "cloud": [
        # its own field text says it must be null for SOURCE_IP conditions, which Terraform sends without it
        Unrequire("ApplicationLoadBalancerHttpRuleCondition", "condition", "null for SOURCE_IP")
    ],
    "postgresql-v1": [
        # the upstream document raised the minima above what the SDK's spec (2048/2048 MB) and the clients
        # send: the Terraform provider's acceptance tests create v1 clusters with ram 2048 and storage 2048
        Replace(_schema_path("Ram", "minimum"), 4096, 2048, "clients create clusters with 2048 MB of RAM"),
        Replace(_schema_path("StorageSize", "minimum"), 10240, 2048, "clients create clusters with 2048 MB"),
    ],
    "activitylog": [
        # its server is the bare host and every path repeats the API's own prefix
        Rebase("/activitylog/v1", "paths carry the base path"),
    ],
    "billing": [
        # TrafficVDC and TrafficNIC both match any object (nothing required, more allowed), so the oneOf of the
        # traffic answers would refuse every answer; the discriminator names a `type` neither schema has
        *(
            AnyOf(("paths", path, "get", "responses", "200", "content", "application/json", "schema"), "oneOf")
            for path in ("/{contract}/traffic", "/{contract}/traffic/{period}")
        ),
    ],
    "autoscaling-v1": [
        # "data center" is no attribute: the group's data center is `datacenter` (GroupUpdatableProperties)
        RenameRequired("GroupImmutableProperties", "data center", "datacenter", "misspelt required name"),
        # `type: int` is not an OpenAPI/JSON-Schema type (validators reject the whole spec); both fields are
        # integers (their examples are 400 and 122, the sibling error schemas say `type: integer`)
        Replace(
            _schema_path("ParseError_allOf", "properties", "httpStatus", "type"),
            "int",
            "integer",
            "type: int is not a type",
        ),
        Replace(
            _schema_path("ErrorMessageParse_allOf", "properties", "errorCode", "type"),
            "int",
            "integer",
            "type: int is not a type",
        ),
        # the group's data center is allOf [Resource (id readOnly), {id readOnly: false}]: an override that
        # allOf cannot express (both branches apply, so every client's datacenter.id would be "read-only");
        # keep what Resource contributes apart from the read-only id: an object that requires an id
        Replace(
            _schema_path("GroupUpdatableProperties", "properties", "datacenter", "allOf", 0),
            {"$ref": SCHEMA_REF_PREFIX + "Resource"},
            {"type": "object", "required": ["id"]},
            "readOnly overridden in an allOf sibling",
        ),
        # a Swagger-2 style reference left in the generated document; the schema lives in components
        Replace(
            _schema_path("Group_allOf", "properties", "entities", "$ref"),
            "#/definitions/GroupEntities",
            SCHEMA_REF_PREFIX + "GroupEntities",
            "dangling #/definitions/ reference",
        ),
    ],
}


def apply_corrections(doc: dict, name: str) -> None:
    for fix in CORRECTIONS.get(name, ()):
        if not fix.apply(doc):
            print(f"warning: {name}: correction no longer applies ({type(fix).__name__}: {fix.why})", file=sys.stderr)


def dumps(obj) -> bytes:
    try:
        import orjson

        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    except ImportError:  # pragma: no cover - orjson is a runtime dependency
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--specs", type=Path, default=DEFAULT_SPECS, help="directory with the OpenAPI YAML files")
    ap.add_argument("--out", type=Path, default=OUT_DIR, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    parts = []
    sources = [(name, args.specs / fname, False) for name, fname in SOURCES.items()]
    sources += [(name, args.specs / fname, True) for name, fname in PRODUCT_SOURCES.items()]
    sources += [(name, OWN_SPECS / fname, True) for name, fname in OWN_SOURCES.items()]
    for name, path, with_servers in sources:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.load(fh, Loader=SpecLoader)
        comp = Compiler(doc, name)
        data = comp.compile(with_servers=with_servers)
        blob = dumps(data)
        (args.out / f"{name}.json").write_bytes(blob)
        if comp.dropped:
            print(f"warning: {name}: dropped unknown schema keywords: {sorted(comp.dropped)}", file=sys.stderr)
        parts.append(f"{name}: {len(data['operations'])} ops, {len(data['schemas'])} schemas, {len(blob)} bytes")
    print("; ".join(parts) + f" ({time.perf_counter() - t0:.2f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
