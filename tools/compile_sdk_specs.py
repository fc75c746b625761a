#!/usr/bin/env python3
"""Compile IONOS product APIs that have no spec file from their official Python SDKs.

The output has the same format as tools/compile_specs.py (structure only; see
src/ionos_emulator/spec/__init__.py) plus "servers" (the SDK's regional hosts) and
"sdkVersion".  It reads packages made by the current openapi-generator (pydantic v2):

* operations: each ``_<op>_serialize`` method of ``<pkg>/api/*_api.py`` is read with ``ast``
  (HTTP method, resource path, path/query/header parameters, body, media types, auth settings);
  the public ``<op>`` method gives the parameter annotations (types and constraints), which of
  them are required (no default) and ``_response_types_map``.  The operation id is the method
  name in camelCase (clusters_get -> clustersGet).
* schemas: pydantic's JSON schema of every model class (by alias, mode="validation"), made
  OpenAPI 3.0 style: ``$defs`` flattened into "schemas", refs written "#/schemas/<Name>", prose
  dropped, ``anyOf: [X, null]`` reduced to X, with ``nullable: true`` where the SDK treats the
  attribute as nullable (the "(nullable)" branch of the model's ``to_dict``; every attribute is
  ``Optional`` in these SDKs, which only means it may be left out).  oneOf/anyOf wrapper models
  become ``anyOf`` of their variants; Enum classes ``{"type", "enum"}``.

What the SDKs do not carry cannot be compiled: their models declare every attribute optional
(``Optional[X] = None``), so there is no ``required`` list; nor readOnly/writeOnly, patterns or
inline enums of plain string attributes.

Usage: python tools/compile_sdk_specs.py [--only NAME ...]   (needs the `specs` extra installed)
"""

from __future__ import annotations

import argparse
import ast
import enum
import importlib
import importlib.metadata
import json
import re
import sys
import time
import typing
from pathlib import Path
from urllib.parse import urlparse

from compile_specs import SCALAR_KEYWORDS  # the sibling compiler's (tools/ is on sys.path when run)

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "src" / "ionos_emulator" / "spec" / "data"

# output name -> (import package, distribution); versions are pinned in pyproject.toml [specs]
PACKAGES = {
    "postgresql": ("ionoscloud_dbaas_postgres", "ionoscloud-dbaas-postgres"),
    "mariadb": ("ionoscloud_dbaas_mariadb", "ionoscloud-dbaas-mariadb"),
    "inmemorydb": ("ionoscloud_dbaas_inmemorydb", "ionoscloud-dbaas-inmemorydb"),
    "logging": ("ionoscloud_logging", "ionoscloud-logging"),
    "kafka": ("ionoscloud_kafka", "ionoscloud-kafka"),
    "vpn": ("ionoscloud_vpn", "ionoscloud-vpn"),
    "objectstoragemanagement": ("ionoscloud_object_storage_management", "ionoscloud-object-storage-management"),
    "apigateway": ("ionoscloud_api_gateway", "ionoscloud-api-gateway"),
    "certmanager": ("ionoscloud_cert_manager", "ionoscloud-cert-manager"),
    "containerregistry": ("ionoscloud_container_registry", "ionoscloud-container-registry"),
    "autoscaling": ("ionoscloud_vm_autoscaling", "ionoscloud-vm-autoscaling"),
    "cdn-sdk": ("ionoscloud_cdn", "ionoscloud-cdn"),
    "dataplatform": ("ionoscloud_dataplatform", "ionoscloud-dataplatform"),
}
# packages of the older openapi-generator (six, `openapi_types`, `*_with_http_info` calling `call_api`), read by
# compile_legacy_package; their success responses carry no status code, so each is taken as 200
LEGACY = {"dataplatform"}
LEGACY_SUCCESS = "200"
LEGACY_ERRORS = ("400", "401", "403", "404", "405", "409", "422", "500", "503")  # answered with the ErrorResponse model
# SDK outputs written only when they describe something the spec-compiled file of the same API does
# not (see adds_to), apart from the known differences listed, which that spec already accepts.
ONLY_IF_DIFFERENT = {
    "cdn-sdk": (
        "cdn",
        {
            # the SDK's DistributionUpdate repeats the path's id in the body; the spec's DistributionEnsure
            # does not list it but does not forbid unknown attributes either
            "PUT /distributions/{distributionId} body attribute id"
        },
    )
}

# keyword arguments of every generated public method that are not API parameters
CLIENT_ARGS = {"self", "query_params", "_request_timeout", "_request_auth", "_content_type", "_headers", "_host_index"}

# JSON-Schema keywords kept (structure and validation), the same as for the YAML specs; anything else is
# reported and dropped
KEEP_SCALARS = SCALAR_KEYWORDS
PROSE = {"title", "description", "examples", "example"}

PRIMITIVE_RESPONSE_TYPES = {
    "str": {"type": "string"},
    "bytearray": {"type": "string", "format": "binary"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "object": {},
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
}

REF = "#/schemas/"


class CompileError(Exception):
    pass


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


# ---------------------------------------------------------------------------------------------
# JSON schema (pydantic) -> compact OpenAPI 3.0 schema
# ---------------------------------------------------------------------------------------------


class SchemaCleaner:
    def __init__(self):
        self.dropped: set[str] = set()

    def clean(self, s):
        if not isinstance(s, dict):
            return s
        s = dict(s)
        # Optional[X] -> X (nullability is decided per attribute by the caller)
        for key in ("anyOf", "oneOf"):
            branches = s.get(key)
            if branches and any(b == {"type": "null"} for b in branches):
                rest = [b for b in branches if b != {"type": "null"}]
                del s[key]
                if len(rest) == 1:
                    s = {**rest[0], **{k: v for k, v in s.items() if k not in rest[0]}}
                else:
                    s[key] = rest
        # Union[StrictFloat, StrictInt] -> number
        branches = s.get("anyOf")
        if branches and sorted(json.dumps(b, sort_keys=True) for b in branches) == [
            '{"type": "integer"}',
            '{"type": "number"}',
        ]:
            del s["anyOf"]
            s["type"] = "number"
        out: dict = {}
        for key, value in s.items():
            if key == "$ref":
                if not value.startswith(REF):
                    raise CompileError(f"unexpected reference {value!r}")
                out[key] = value
            elif key == "const":
                out["enum"] = [value]
            elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
                # JSON Schema 2020 numbers -> OpenAPI 3.0 / draft 4 booleans
                out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
                out[key] = True
            elif key == "default":
                if value is not None:
                    out[key] = value
            elif key in KEEP_SCALARS:
                out[key] = value
            elif key == "properties":
                out[key] = {name: self.clean(sub) for name, sub in value.items()}
            elif key in ("items", "not"):
                out[key] = self.clean(value)
            elif key == "additionalProperties":
                out[key] = self.clean(value) if isinstance(value, dict) else value
            elif key in ("anyOf", "oneOf", "allOf"):
                out[key] = [self.clean(sub) for sub in value]
            elif key in PROSE or key == "$defs":
                pass
            else:
                self.dropped.add(key)
        if out.get("required") == []:
            del out["required"]
        return out


def inline_refs(s, schemas: dict, depth: int = 0):
    """Parameter schemas are checked without reference resolution: inline the (enum) targets."""
    if depth > 10 or not isinstance(s, dict):
        return s
    if "$ref" in s:
        target = schemas[s["$ref"][len(REF) :]]
        s = {**target, **{k: v for k, v in s.items() if k != "$ref"}}
    return {k: (inline_refs(v, schemas, depth + 1) if isinstance(v, dict) else v) for k, v in s.items()}


# ---------------------------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------------------------


def nullable_aliases(cls_node: ast.ClassDef) -> set[str]:
    """Aliases that to_dict() writes as null: `if self.x is None and "x" in self.model_fields_set:
    _dict['alias'] = None` (the generator's rendering of `nullable: true`)."""
    out: set[str] = set()
    for fn in cls_node.body:
        if not (isinstance(fn, ast.FunctionDef) and fn.name == "to_dict"):
            continue
        for node in ast.walk(fn):
            if not (isinstance(node, ast.If) and "model_fields_set" in ast.unparse(node.test)):
                continue
            for stmt in node.body:
                if (
                    isinstance(stmt, ast.Assign)
                    and isinstance(stmt.value, ast.Constant)
                    and stmt.value.value is None
                    and isinstance(stmt.targets[0], ast.Subscript)
                    and isinstance(stmt.targets[0].slice, ast.Constant)
                ):
                    out.add(stmt.targets[0].slice.value)
    return out


class ModelSet:
    def __init__(self, pkg: str):
        from pydantic import BaseModel

        self.pkg = pkg
        self.models: dict[str, type] = {}
        self.enums: dict[str, type] = {}
        self.nullable: dict[str, set[str]] = {}
        mdir = Path(importlib.import_module(pkg).__file__).parent / "models"
        for path in sorted(mdir.glob("*.py")):
            if path.name == "__init__.py":
                continue
            modname = f"{pkg}.models.{path.stem}"
            mod = importlib.import_module(modname)
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                if not isinstance(node, ast.ClassDef):
                    continue
                cls = getattr(mod, node.name)
                if node.name in self.models or node.name in self.enums:
                    raise CompileError(f"{pkg}: two model classes named {node.name}")
                if isinstance(cls, type) and issubclass(cls, enum.Enum):
                    self.enums[node.name] = cls
                elif isinstance(cls, type) and issubclass(cls, BaseModel):
                    self.models[node.name] = cls
                    self.nullable[node.name] = nullable_aliases(node)

    @staticmethod
    def wrapper_kind(cls) -> str | None:
        fields = cls.model_fields
        if "actual_instance" in fields:
            if any(n.startswith("oneof_schema_") for n in fields):
                return "oneOf"
            if any(n.startswith("anyof_schema_") for n in fields):
                return "anyOf"
        return None

    def schemas(self, cleaner: SchemaCleaner, mode: str) -> dict:
        from pydantic import TypeAdapter
        from pydantic.json_schema import models_json_schema

        plain = [c for n, c in sorted(self.models.items()) if not self.wrapper_kind(c)]
        _, top = models_json_schema([(c, mode) for c in plain], ref_template=REF + "{model}")
        defs = dict(top.get("$defs") or {})
        for name, cls in sorted(self.models.items()):
            kind = self.wrapper_kind(cls)
            if not kind:
                continue
            prefix = "oneof_schema_" if kind == "oneOf" else "anyof_schema_"
            variants = []
            for fname in sorted(
                (f for f in cls.model_fields if f.startswith(prefix)), key=lambda f: int(re.sub(r"\D", "", f) or 0)
            ):
                js = TypeAdapter(cls.model_fields[fname].annotation).json_schema(
                    mode=mode, ref_template=REF + "{model}"
                )
                for dname, d in (js.pop("$defs", None) or {}).items():
                    defs.setdefault(dname, d)
                variants.append(js)
            # anyOf even for a oneOf wrapper: the SDK's variants declare no required attributes, so an
            # object matches every variant and a oneOf could never hold (the SDK's own from_json fails
            # the same way: "Multiple matches found")
            defs[name] = {"anyOf": variants}
        for name, cls in self.enums.items():
            defs.setdefault(name, {"type": "string", "enum": [m.value for m in cls]})
        unknown = sorted(set(defs) - set(self.models) - set(self.enums))
        if unknown:
            raise CompileError(f"{self.pkg}: pydantic named schemas that are no SDK class: {unknown}")
        out = {}
        for name, d in sorted(defs.items()):
            c = cleaner.clean(d)
            for alias in self.nullable.get(name, ()):
                prop = (c.get("properties") or {}).get(alias)
                if prop is not None:
                    prop["nullable"] = True
            out[name] = c
        return out


# ---------------------------------------------------------------------------------------------
# operations
# ---------------------------------------------------------------------------------------------


def _const(node):
    return node.value if isinstance(node, ast.Constant) else None


def _str_list(node) -> list[str]:
    if isinstance(node, (ast.List, ast.Tuple)):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def _first_name(node) -> str | None:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            return sub.id
    return None


class SerializeInfo:
    """What one `_<op>_serialize` method does with its arguments."""

    def __init__(self, fn: ast.FunctionDef):
        self.method = self.path = None
        self.path_params: list[tuple[str, str]] = []  # (json name, argument)
        self.query_params: list[tuple[str, str]] = []
        self.header_params: list[tuple[str, str]] = []
        self.body_arg: str | None = None
        self.accept: list[str] = []
        self.content_types: list[str] = []
        self.auth: list[str] = []
        self.collection_formats: dict[str, str] = {}
        self.unsupported: list[str] = []
        args = {a.arg for a in fn.args.args}
        for node in ast.walk(fn):
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    self._assign(t, node.value, args)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                self._call(node, args)
        if not (self.method and self.path):
            raise CompileError(f"{fn.name}: no param_serialize(method=..., resource_path=...)")

    def _assign(self, target, value, args):
        if value is None:
            return
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            key = _const(target.slice)
            arg = value.id if isinstance(value, ast.Name) and value.id in args else None
            if target.value.id == "_path_params" and arg:
                self.path_params.append((key, arg))
            elif target.value.id == "_header_params" and arg and key not in ("Accept", "Content-Type"):
                self.header_params.append((key, arg))
            elif target.value.id == "_files" or (target.value.id == "_form_params" and arg):
                self.unsupported.append(f"{target.value.id}[{key!r}]")
        elif isinstance(target, ast.Name):
            if target.id == "_body_params" and isinstance(value, ast.Name) and value.id in args:
                self.body_arg = value.id
            elif target.id == "_auth_settings":
                self.auth = _str_list(value)
            elif target.id == "_collection_formats" and isinstance(value, ast.Dict):
                self.collection_formats = {_const(k): _const(v) for k, v in zip(value.keys, value.values, strict=True)}

    def _call(self, node: ast.Call, args):
        attr = node.func.attr
        owner = node.func.value
        if attr == "append" and isinstance(owner, ast.Name) and node.args:
            item = node.args[0]
            if owner.id == "_query_params" and isinstance(item, ast.Tuple) and len(item.elts) == 2:
                name, arg = _const(item.elts[0]), _first_name(item.elts[1])
                if isinstance(name, str) and arg in args:
                    self.query_params.append((name, arg))
            elif owner.id == "_form_params":
                self.unsupported.append("form parameter")
        elif attr == "select_header_accept" and node.args:
            self.accept = _str_list(node.args[0])
        elif attr == "select_header_content_type" and node.args:
            self.content_types = _str_list(node.args[0])
        elif attr == "param_serialize":
            kw = {k.arg: k.value for k in node.keywords}
            self.method = _const(kw.get("method"))
            self.path = _const(kw.get("resource_path"))


def response_type_schema(type_str: str | None, known: set[str]):
    if type_str is None:
        return None
    node = ast.parse(type_str, mode="eval").body

    def conv(n):
        if isinstance(n, ast.Name):
            if n.id in PRIMITIVE_RESPONSE_TYPES:
                return dict(PRIMITIVE_RESPONSE_TYPES[n.id])
            if n.id in known:
                return {"$ref": REF + n.id}
            raise CompileError(f"response type {type_str!r}: unknown {n.id}")
        if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name):
            inner = n.slice.elts if isinstance(n.slice, ast.Tuple) else [n.slice]
            if n.value.id == "List":
                return {"type": "array", "items": conv(inner[0])}
            if n.value.id == "Dict":
                return {"type": "object", "additionalProperties": conv(inner[-1])}
        raise CompileError(f"unsupported response type {type_str!r}")

    return conv(node)


def _response_map(fn: ast.FunctionDef) -> dict:
    for node in ast.walk(fn):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "_response_types_map"
            and isinstance(node.value, ast.Dict)
        ):
            return {_const(k): _const(v) for k, v in zip(node.value.keys, node.value.values, strict=True)}
    raise CompileError(f"{fn.name}: no _response_types_map")


def _is_deprecated(fn: ast.FunctionDef) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "warnings.warn":
            return True
    return False


def compile_operations(pkg: str, schemas: dict, cleaner: SchemaCleaner) -> tuple[list, set]:
    from pydantic import TypeAdapter

    api_dir = Path(importlib.import_module(pkg).__file__).parent / "api"
    ops, used_auth, seen = [], set(), set()
    for path in sorted(api_dir.glob("*_api.py")):
        module = importlib.import_module(f"{pkg}.api.{path.stem}")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for cls_node in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            methods = {f.name: f for f in cls_node.body if isinstance(f, ast.FunctionDef)}
            cls = getattr(module, cls_node.name)
            public_info = sorted(
                n[: -len("_with_http_info")] for n in methods if n.endswith("_with_http_info") and not n.startswith("_")
            )
            for name in public_info:
                ser_node = methods.get(f"_{name}_serialize")
                pub_node = methods.get(name)
                if ser_node is None or pub_node is None:
                    raise CompileError(f"{pkg}: {name}: no _{name}_serialize / {name}")
                ser = SerializeInfo(ser_node)
                if ser.unsupported:
                    raise CompileError(f"{pkg}: {name}: unsupported {ser.unsupported}")
                fn = getattr(cls, name)
                fn = getattr(fn, "raw_function", None) or getattr(fn, "__wrapped__", None) or fn
                hints = typing.get_type_hints(fn, include_extras=True)
                sig_args = [a.arg for a in pub_node.args.args]
                n_defaults = len(pub_node.args.defaults)
                has_default = set(sig_args[len(sig_args) - n_defaults :]) if n_defaults else set()

                def param_schema(arg, hints=hints):
                    js = TypeAdapter(hints[arg]).json_schema(ref_template=REF + "{model}")
                    js.pop("$defs", None)
                    return cleaner.clean(js)

                params = []
                for where, pairs in (
                    ("path", ser.path_params),
                    ("query", ser.query_params),
                    ("header", ser.header_params),
                ):
                    for pname, arg in pairs:
                        p = {
                            "name": pname,
                            "in": where,
                            "required": where == "path" or arg not in has_default,
                            "schema": inline_refs(param_schema(arg), schemas),
                        }
                        fmt = ser.collection_formats.get(pname)
                        if p["schema"].get("type") == "array":
                            p["style"] = "form"
                            p["explode"] = fmt == "multi"
                        params.append(p)
                expected = {a for a in sig_args if a not in CLIENT_ARGS}
                handled = {a for pairs in (ser.path_params, ser.query_params, ser.header_params) for _, a in pairs} | (
                    {ser.body_arg} if ser.body_arg else set()
                )
                if expected != handled:
                    raise CompileError(
                        f"{pkg}: {name}: arguments not mapped to the request: {sorted(expected ^ handled)}"
                    )
                body = None
                if ser.body_arg:
                    body = {
                        "required": ser.body_arg not in has_default,
                        "schema": param_schema(ser.body_arg),
                        "mediaTypes": ser.content_types or ["application/json"],
                    }
                responses = {}
                rmap = {str(code): type_str for code, type_str in _response_map(pub_node).items()}
                if "2XX" in rmap and any(c[0] == "2" and c != "2XX" for c in rmap):
                    # the generator adds '2XX' as a copy of the documented success response
                    del rmap["2XX"]
                json_accept = [m for m in ser.accept if "json" in m]
                other_accept = [m for m in ser.accept if "json" not in m]
                for code, type_str in rmap.items():
                    schema = response_type_schema(type_str, set(schemas))
                    if schema is not None:
                        media = json_accept or list(ser.accept)
                    else:  # no model: a body in a non-JSON type the client accepts (a zone file), or none
                        media = other_accept if code[0] == "2" else []
                    responses[code] = {"schema": schema, "headers": [], "mediaTypes": media}
                op_id = camel(name)
                if op_id in seen:
                    raise CompileError(f"{pkg}: duplicate operation id {op_id}")
                seen.add(op_id)
                entry = {
                    "id": op_id,
                    "method": ser.method.upper(),
                    "path": ser.path,
                    "params": params,
                    "body": body,
                    "responses": responses,
                    "security": list(ser.auth),
                }
                if _is_deprecated(pub_node):
                    entry["deprecated"] = True
                used_auth.update(ser.auth)
                ops.append(entry)
    return ops, used_auth


# ---------------------------------------------------------------------------------------------
# configuration: servers, base path, security schemes, API version
# ---------------------------------------------------------------------------------------------


def security_schemes(pkg: str) -> dict:
    """From Configuration.auth_settings(): auth['name'] = {'type': ..., 'in': ..., 'key': ...}."""
    path = Path(importlib.import_module(pkg).__file__).parent / "configuration.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = {}
    for fn in ast.walk(tree):
        if not (isinstance(fn, ast.FunctionDef) and fn.name == "auth_settings"):
            continue
        for node in ast.walk(fn):
            if not (
                isinstance(node, ast.Assign)
                and isinstance(node.targets[0], ast.Subscript)
                and isinstance(node.value, ast.Dict)
            ):
                continue
            name = _const(node.targets[0].slice)
            d = {_const(k): _const(v) for k, v in zip(node.value.keys, node.value.values, strict=True)}
            kind = d.get("type")
            if kind == "basic":
                out[name] = {"type": "http", "scheme": "basic"}
            elif kind == "bearer":
                out[name] = {"type": "http", "scheme": "bearer"}
                if d.get("format"):
                    out[name]["bearerFormat"] = d["format"]
            elif kind in ("api_key", "token"):
                out[name] = {"type": "apiKey", "in": d.get("in", "header"), "name": d.get("key")}
            else:
                raise CompileError(f"{pkg}: unknown auth type {kind!r}")
    return out


def api_version(pkg: str) -> str:
    mod = importlib.import_module(pkg)
    doc = ast.get_docstring(ast.parse(Path(mod.__file__).read_text(encoding="utf-8"))) or ""
    m = re.search(r"The version of the OpenAPI document: (\S+)", doc)
    return m.group(1) if m else ""


def compile_package(name: str, pkg: str, dist: str) -> tuple[dict, list[str]]:
    config_mod = importlib.import_module(f"{pkg}.configuration")
    cfg = config_mod.Configuration()
    servers = [{"url": s["url"]} for s in cfg.get_host_settings()]
    cleaner = SchemaCleaner()
    models = ModelSet(pkg)
    schemas = models.schemas(cleaner, "validation")
    notes = []
    serialization = models.schemas(SchemaCleaner(), "serialization")
    differ = sorted(n for n in schemas if serialization.get(n) != schemas[n])
    if differ:
        notes.append(f"serialization schema differs for {differ} (validation schema kept)")
    ops, used_auth = compile_operations(pkg, schemas, cleaner)
    schemes = security_schemes(pkg)
    missing = sorted(used_auth - set(schemes))
    if missing:
        raise CompileError(f"{pkg}: operations name unknown auth settings {missing}")
    if cleaner.dropped:
        notes.append(f"dropped unknown schema keywords {sorted(cleaner.dropped)}")
    data = {
        "api": name,
        "basePath": urlparse(cfg.host).path.rstrip("/"),
        "version": api_version(pkg),
        "sdkVersion": importlib.metadata.version(dist),
        "servers": servers,
        "operations": ops,
        "schemas": schemas,
        "securitySchemes": schemes,
    }
    return data, notes


# ---------------------------------------------------------------------------------------------
# the older generator (six): models with openapi_types/attribute_map and validating setters, API methods that
# build their request with local_var_params and call_api
# ---------------------------------------------------------------------------------------------

LEGACY_PRIMITIVES = {**PRIMITIVE_RESPONSE_TYPES, "file": {"type": "string", "format": "binary"}}


def legacy_type(type_str: str, known: set[str]) -> dict:
    """'list[NodePool]', 'dict(str, int)', 'datetime', 'Metadata' -> a schema."""
    if type_str.startswith("list[") and type_str.endswith("]"):
        return {"type": "array", "items": legacy_type(type_str[5:-1], known)}
    if type_str.startswith("dict(") and type_str.endswith(")"):
        return {"type": "object", "additionalProperties": legacy_type(type_str[5:-1].split(",", 1)[1].strip(), known)}
    if type_str in LEGACY_PRIMITIVES:
        return dict(LEGACY_PRIMITIVES[type_str])
    if type_str in known:
        return {"$ref": REF + type_str}
    raise CompileError(f"unknown type {type_str!r}")


def _setter_rules(fn: ast.FunctionDef, attr: str, is_list: bool) -> tuple[bool, dict]:
    """Whether a validating setter refuses None (required), and the constraints it checks."""
    required, rules = False, {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "allowed_values":
            values = [_const(e) for e in getattr(node.value, "elts", [])]
            if values and all(isinstance(v, str) for v in values):
                rules["enum"] = values
        if not isinstance(node, ast.Compare) or len(node.ops) != 1:
            continue
        left, op, right = node.left, node.ops[0], node.comparators[0]
        if isinstance(left, ast.Name) and left.id == attr and isinstance(op, ast.Is) and _const(right) is None:
            required = True
        bound = _const(right)
        if not isinstance(bound, (int, float)) or isinstance(bound, bool):
            continue
        if isinstance(left, ast.Call) and getattr(left.func, "id", None) == "len":
            if isinstance(op, ast.Gt):
                rules["maxItems" if is_list else "maxLength"] = bound
            elif isinstance(op, ast.Lt):
                rules["minItems" if is_list else "minLength"] = bound
        elif isinstance(left, ast.Name) and left.id == attr:
            if isinstance(op, ast.Gt):
                rules["maximum"] = bound
            elif isinstance(op, ast.Lt):
                rules["minimum"] = bound
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "re.search" and node.args:
            pattern = _const(node.args[0])
            if isinstance(pattern, str):
                rules["pattern"] = pattern
    return required, rules


def legacy_schemas(pkg: str) -> dict:
    mdir = Path(importlib.import_module(pkg).__file__).parent / "models"
    classes: dict[str, tuple[type, ast.ClassDef]] = {}
    for path in sorted(mdir.glob("*.py")):
        if path.name == "__init__.py":
            continue
        mod = importlib.import_module(f"{pkg}.models.{path.stem}")
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                classes[node.name] = (getattr(mod, node.name), node)
    known = set(classes)
    out = {}
    for name, (cls, node) in sorted(classes.items()):
        if not cls.openapi_types and getattr(cls, "allowable_values", None):
            out[name] = {"type": "string", "enum": list(cls.allowable_values)}
            continue
        setters = {
            f.name: f
            for f in node.body
            if isinstance(f, ast.FunctionDef) and any(ast.unparse(d).endswith(".setter") for d in f.decorator_list)
        }
        props, required = {}, []
        for attr, type_str in cls.openapi_types.items():
            alias = cls.attribute_map[attr]
            schema = legacy_type(type_str, known)
            fn = setters.get(attr)
            if fn is not None:
                needed, rules = _setter_rules(fn, attr, type_str.startswith("list["))
                if needed:
                    required.append(alias)
                if "enum" in rules and "$ref" in schema:
                    rules.pop("enum")
                schema = {"allOf": [schema], **rules} if "$ref" in schema and rules else {**schema, **rules}
            props[alias] = schema
        entry: dict = {"type": "object", "properties": props}
        if required:
            entry["required"] = required
        out[name] = entry
    return out


def _legacy_operation(fn: ast.FunctionDef, schemas: dict) -> dict:
    name = fn.name[: -len("_with_http_info")]
    doc = ast.get_docstring(fn) or ""
    types = dict(re.findall(r":type (\w+): (\S+)", doc))
    required_args = set(re.findall(r"Missing the required parameter `(\w+)`", ast.unparse(fn)))
    path = method = body_arg = response = None
    path_params, query_params, header_params, accept, content_types, auth = [], [], [], [], [], []
    checks: dict[str, dict] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr = node.func.attr
            if attr == "call_api":
                path, method = _const(node.args[0]), _const(node.args[1])
            elif attr == "append" and ast.unparse(node.func.value) == "query_params" and node.args:
                item = node.args[0]
                if isinstance(item, ast.Tuple):
                    query_params.append((_const(item.elts[0]), _const(item.elts[1].slice)))
            elif attr == "select_header_accept":
                accept = _str_list(node.args[0])
            elif attr == "select_header_content_type":
                content_types = _str_list(node.args[0])
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
            target = node.targets[0]
            owner, key = ast.unparse(target.value), _const(target.slice)
            arg = _const(node.value.slice) if isinstance(node.value, ast.Subscript) else None
            if owner == "path_params" and arg:
                path_params.append((key, arg))
            elif owner == "header_params" and arg and key not in ("Accept", "Content-Type"):
                header_params.append((key, arg))
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            target_name = node.targets[0].id
            if target_name == "body_params" and isinstance(node.value, ast.Subscript):
                body_arg = _const(node.value.slice)
            elif target_name == "auth_settings":
                auth = _str_list(node.value)
            elif target_name == "response_type" and _const(node.value) is not None:
                response = _const(node.value)  # not the override from kwargs
        elif isinstance(node, ast.If) and "client_side_validation" in ast.unparse(node.test):
            text = ast.unparse(node.test)
            m = re.search(r"local_var_params\['(\w+)'\]", text)
            if m is None:
                continue
            rules = checks.setdefault(m.group(1), {})
            for pattern in re.findall(r"re\.search\('((?:[^'\\]|\\.)*)'", text):
                rules["pattern"] = pattern.encode().decode("unicode_escape")
            for op, bound in re.findall(r"\) (>|<) (\d+)", text):
                rules["maxLength" if op == ">" else "minLength"] = int(bound)
            for op, bound in re.findall(r"local_var_params\['\w+'\] (>|<) (\d+)", text):
                rules["maximum" if op == ">" else "minimum"] = int(bound)
    if not (path and method):
        raise CompileError(f"{name}: no call_api(path, method)")
    known = set(schemas)
    params = []
    for where, pairs in (("path", path_params), ("query", query_params), ("header", header_params)):
        for pname, arg in pairs:
            schema = {**legacy_type(types.get(arg, "str"), known), **checks.get(arg, {})}
            params.append(
                {"name": pname, "in": where, "required": where == "path" or arg in required_args, "schema": schema}
            )
    body = None
    if body_arg:
        body = {
            "required": body_arg in required_args,
            "schema": legacy_type(types.get(body_arg, "object"), known),
            "mediaTypes": content_types or ["application/json"],
        }
    responses = {
        LEGACY_SUCCESS: {
            "schema": legacy_type(response, known) if response else None,
            "headers": [],
            "mediaTypes": [m for m in accept if "json" in m] or accept if response else [],
        }
    }
    if "ErrorResponse" in known:
        for code in LEGACY_ERRORS:
            responses[code] = {
                "schema": {"$ref": REF + "ErrorResponse"},
                "headers": [],
                "mediaTypes": ["application/json"],
            }
    return {
        "id": camel(name),
        "method": method.upper(),
        "path": path,
        "params": params,
        "body": body,
        "responses": responses,
        "security": list(auth),
    }


def compile_legacy_package(name: str, pkg: str, dist: str) -> tuple[dict, list[str]]:
    """A package of the older generator: the same output as compile_package."""
    cfg = importlib.import_module(f"{pkg}.configuration").Configuration()
    schemas = legacy_schemas(pkg)
    ops, seen = [], set()
    api_dir = Path(importlib.import_module(pkg).__file__).parent / "api"
    for path in sorted(api_dir.glob("*_api.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef) and fn.name.endswith("_with_http_info"):
                op = _legacy_operation(fn, schemas)
                if op["id"] in seen:
                    raise CompileError(f"{pkg}: duplicate operation id {op['id']}")
                seen.add(op["id"])
                ops.append(op)
    schemes = security_schemes(pkg)
    missing = sorted({a for op in ops for a in op["security"]} - set(schemes))
    if missing:
        raise CompileError(f"{pkg}: operations name unknown auth settings {missing}")
    data = {
        "api": name,
        "basePath": urlparse(cfg.host).path.rstrip("/"),
        "version": api_version(pkg),
        "sdkVersion": importlib.metadata.version(dist),
        "servers": [{"url": s["url"]} for s in cfg.get_host_settings()],
        "operations": sorted(ops, key=lambda o: (o["path"], o["method"])),
        "schemas": schemas,
        "securitySchemes": schemes,
    }
    return data, [f"older generator: every success response taken as {LEGACY_SUCCESS}"]


def attribute_paths(schema, schemas: dict, prefix: str = "", seen: frozenset = frozenset()) -> set[str]:
    """The JSON attribute paths a schema describes ("properties.name", "items[].id"), whatever the
    schemas are called or however they are composed (refs, allOf/oneOf/anyOf)."""
    out: set[str] = set()
    if not isinstance(schema, dict):
        return out
    ref = schema.get("$ref")
    if ref is not None:
        name = ref[len(REF) :]
        if name in seen or name not in schemas:
            return out
        return attribute_paths(schemas[name], schemas, prefix, seen | {name})
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key) or ():
            out |= attribute_paths(sub, schemas, prefix, seen)
    for name, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{name}" if prefix else name
        out.add(path)
        out |= attribute_paths(sub, schemas, path, seen)
    if isinstance(schema.get("items"), dict):
        out |= attribute_paths(schema["items"], schemas, prefix + "[]", seen)
    return out


def adds_to(sdk: dict, spec: dict) -> list[str]:
    """What the SDK compilation describes that the spec compilation does not: operations,
    parameters, and attributes of request and response bodies (compared by JSON path)."""
    spec_ops = {(op["method"], op["path"]): op for op in spec["operations"]}
    out = []
    for op in sdk["operations"]:
        other = spec_ops.get((op["method"], op["path"]))
        label = f"{op['method']} {op['path']}"
        if other is None:
            out.append(f"operation {label}")
            continue
        extra = {p["name"] for p in op["params"]} - {p["name"] for p in other["params"]}
        out += [f"{label} parameter {n}" for n in sorted(extra)]
        pairs = [("body", (op["body"] or {}).get("schema"), (other["body"] or {}).get("schema"))]
        pairs += [
            (code, r["schema"], (other["responses"].get(code) or {}).get("schema"))
            for code, r in op["responses"].items()
        ]
        for where, mine, theirs in pairs:
            extra = attribute_paths(mine, sdk["schemas"]) - attribute_paths(theirs, spec["schemas"])
            out += [f"{label} {where} attribute {a}" for a in sorted(extra)]
    return out


def dumps(obj) -> bytes:
    try:
        import orjson

        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    except ImportError:  # pragma: no cover - orjson is a runtime dependency
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=sorted(PACKAGES), help="compile only these outputs")
    ap.add_argument("--out", type=Path, default=OUT_DIR, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    status = 0
    for name, (pkg, dist) in PACKAGES.items():
        if args.only and name not in args.only:
            continue
        t0 = time.perf_counter()
        try:
            importlib.import_module(pkg)
        except ImportError:
            print(f"{name}: skipped, {dist} is not installed (pip install -e '.[specs]')")
            continue
        try:
            data, notes = (compile_legacy_package if name in LEGACY else compile_package)(name, pkg, dist)
        except CompileError as exc:
            print(f"{name}: FAILED: {exc}", file=sys.stderr)
            status = 1
            continue
        for note in notes:
            print(f"warning: {name}: {note}", file=sys.stderr)
        head = (
            f"{name}: {pkg} {data['sdkVersion']} (API {data['version'] or '?'}): "
            f"{len(data['operations'])} ops, {len(data['schemas'])} schemas"
        )
        target = args.out / f"{name}.json"
        if name in ONLY_IF_DIFFERENT:
            other, known = ONLY_IF_DIFFERENT[name]
            spec_path = args.out / f"{other}.json"
            if spec_path.exists():
                extra = [e for e in adds_to(data, json.loads(spec_path.read_bytes())) if e not in known]
            else:
                extra = [f"({other}.json not compiled; run tools/compile_specs.py first)"]
            if not extra:
                if target.exists():
                    target.unlink()
                print(f"{head}; not written: nothing that {other}.json lacks ({time.perf_counter() - t0:.2f}s)")
                continue
            print(
                f"note: {name}: adds to {other}.json: {', '.join(extra[:8])}{' ...' if len(extra) > 8 else ''}",
                file=sys.stderr,
            )
        blob = dumps(data)
        target.write_bytes(blob)
        print(f"{head}, {len(blob)} bytes ({time.perf_counter() - t0:.2f}s)")
    return status


if __name__ == "__main__":
    sys.exit(main())
