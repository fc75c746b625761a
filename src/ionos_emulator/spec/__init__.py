"""Compiled API specs: operation table + request/response/query validators.

The data files in ``spec/data/<api>.json`` are produced by
``tools/compile_specs.py`` from the upstream OpenAPI documents and contain
structure only.  Loading them is cheap (one orjson parse); JSON-Schema views
and validators are built lazily on first use and cached.

OpenAPI 3.0 specifics handled here:

* ``nullable: true`` -> JSON-Schema ``null`` allowed (``type`` list / ``enum``
  gains ``None`` / ``anyOf`` wrapper for composed schemas).
* ``readOnly`` (request view): a read-only attribute sent with a non-null value
  *inside* a ``properties`` object is an error; outside (``id``, ``href``,
  ``metadata`` ... of a resource) it is ignored.  Read-only attributes are
  never required in requests.
* ``writeOnly`` (response view): a non-null write-only attribute is an error.
* Response view is lenient like real servers: unknown attributes are allowed,
  non-required attributes may be ``null``, and resource-level
  ``properties``/``entities``/``metadata`` may be missing (depth=0 rendering).
* PATCH bodies are partial: ``required`` of the top-level object is not
  enforced; so are the ``properties`` of a PUT body where the API's PUT keeps
  what it leaves out (``body_errors(..., keep_omitted=True)``: the Cloud API).
* Lenient input like the real (Java) services (``coerce_body``): where the
  schema wants an integer, a number or a boolean, a string that spells one is
  taken as that value; a string enum matches case-insensitively and is
  replaced by its canonical spelling. Anything else is left for validation to
  refuse.
* Client-settable read-only attributes (``CLIENT_SETTABLE``): the real API
  lets clients choose some attributes on create that the spec marks
  read-only; they are accepted in requests.
"""

from __future__ import annotations

import collections
import functools
import math
import re
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import orjson

__all__ = ["Operation", "Spec", "Head", "load", "head", "loaded", "APIS", "too_deep", "MAX_BODY_DEPTH"]

DATA_DIR = Path(__file__).resolve().parent / "data"
# every compiled spec in spec/data (tools/compile_specs.py and tools/compile_sdk_specs.py write them)
APIS = tuple(sorted(p.stem for p in (Path(__file__).parent / "data").glob("*.json")))
MAX_ERRORS = 5
# seconds of jsonschema on one validator after which it is compiled (`Spec._errors`); compiling one costs
# about 1 to 50 ms (the Cloud API's server POST about 11 ms)
COMPILE_AFTER = 0.02

# request bodies, before and beside the schema (docs/fidelity.md, "Bad input"): nesting deeper than any
# request of any API (the Cloud API's deepest, a data center with servers, volumes and NICs inline, is about
# 12 levels) is refused before validation, which recurses a few frames per level; a NUL or other control
# character (tab, line feed and carriage return aside) is refused in every string; an attribute called
# `name` is at most NAME_MAX_LENGTH characters (a smaller maxLength of its schema holds too)
MAX_BODY_DEPTH = 64
NAME_MAX_LENGTH = 255
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_REF_PREFIX = "#/schemas/"
_IN_PROPS_SUFFIX = "__p"  # request view, instance lives under a "properties" key
_RESPONSE_SUFFIX = "__r"  # response view
_RESOURCE_LEVEL_KEYS = frozenset({"properties", "entities", "metadata"})
_OPENAPI_ONLY = ("nullable", "readOnly", "writeOnly", "discriminator", "deprecated")

# (api, schema) -> attributes the spec marks read-only that the real API lets a client choose (docs/fidelity.md)
CLIENT_SETTABLE: dict[tuple[str, str], frozenset[str]] = {
    ("cloud", "NicProperties"): frozenset({"mac"}),
}

_READ_ONLY_KW = "x-readOnly"
_WRITE_ONLY_KW = "x-writeOnly"


class Operation:
    __slots__ = (
        "id",
        "method",
        "path",
        "params",
        "body",
        "responses",
        "security",
        "deprecated",
        "query_params",
        "header_params",
        "path_params",
    )

    def __init__(self, raw: Mapping[str, Any]):
        self.id: str = raw["id"]
        self.method: str = raw["method"]
        self.path: str = raw["path"]
        self.params: list[dict] = raw.get("params") or []
        self.body: dict | None = raw.get("body")
        self.responses: dict = raw.get("responses") or {}
        self.security: list[str] = raw.get("security") or []
        self.deprecated: bool = bool(raw.get("deprecated", False))
        self.query_params = [p for p in self.params if p["in"] == "query"]
        self.header_params = [p for p in self.params if p["in"] == "header"]
        self.path_params = [p for p in self.params if p["in"] == "path"]

    def __repr__(self) -> str:
        return f"<Operation {self.id} {self.method} {self.path}>"


# ---------------------------------------------------------------------------
# schema views (OpenAPI 3.0 -> JSON Schema draft 4)
# ---------------------------------------------------------------------------


def _ref_name(ref: str) -> str:
    if not ref.startswith(_REF_PREFIX):
        raise ValueError(f"unsupported $ref {ref!r}")
    return ref[len(_REF_PREFIX) :]


def _variant(name: str, view: str, inside: bool) -> str:
    if view == "response":
        return name + _RESPONSE_SUFFIX
    return name + _IN_PROPS_SUFFIX if inside else name


class _Transformer:
    def __init__(self, schemas: Mapping[str, Any]):
        self.schemas = schemas

    def _flag(self, s: Any, key: str) -> bool:
        if not isinstance(s, dict):
            return False
        if s.get(key):
            return True
        ref = s.get("$ref")
        if ref is not None:
            target = self.schemas.get(_ref_name(ref))
            return isinstance(target, dict) and bool(target.get(key))
        # one of several forms, each flagged (In-Memory DB v1's password: plain text or hashed, both write-only)
        branches = s.get("oneOf") or s.get("anyOf") or []
        return bool(branches) and all(self._flag(b, key) for b in branches)

    def tx(self, s: Any, view: str, inside: bool) -> Any:
        if not isinstance(s, dict):
            return s
        s = dict(s)
        nullable = bool(s.get("nullable"))
        for key in _OPENAPI_ONLY:
            s.pop(key, None)

        ref = s.pop("$ref", None)

        if "properties" in s:
            required = list(s.get("required") or ())
            props = {}
            for pname, ps in s["properties"].items():
                if view == "request" and self._flag(ps, "readOnly"):
                    props[pname] = {_READ_ONLY_KW: True} if inside else {}
                    if pname in required:
                        required.remove(pname)
                    continue
                if view == "response" and self._flag(ps, "writeOnly"):
                    props[pname] = {_WRITE_ONLY_KW: True}
                    if pname in required:  # a response never carries it, so it cannot be required there
                        required.remove(pname)
                    continue
                props[pname] = self.tx(ps, view, inside or pname == "properties")
            s["properties"] = props
            if view == "response":
                required = [r for r in required if r not in _RESOURCE_LEVEL_KEYS]
            if required:
                s["required"] = required
            else:
                s.pop("required", None)
        elif view == "response" and "required" in s:
            required = [r for r in s["required"] if r not in _RESOURCE_LEVEL_KEYS]
            if required:
                s["required"] = required
            else:
                s.pop("required")

        if "items" in s:
            s["items"] = self.tx(s["items"], view, inside)
        if isinstance(s.get("additionalProperties"), dict):
            s["additionalProperties"] = self.tx(s["additionalProperties"], view, inside)
        if "not" in s:
            s["not"] = self.tx(s["not"], view, inside)
        for key in ("allOf", "anyOf", "oneOf"):
            if key in s:
                s[key] = [self.tx(sub, view, inside) for sub in s[key]]

        if ref is not None:
            # draft 4 ignores $ref siblings: keep them next to an allOf
            target = {"$ref": _REF_PREFIX + _variant(_ref_name(ref), view, inside)}
            if s:
                s["allOf"] = [target] + list(s.get("allOf") or [])
            else:
                s = target

        if nullable:
            composed = any(k in s for k in ("$ref", "allOf", "anyOf", "oneOf", "not"))
            if "type" in s and not composed:
                t = s["type"]
                s["type"] = list(t) + ["null"] if isinstance(t, list) else [t, "null"]
                if "enum" in s and None not in s["enum"]:
                    s["enum"] = list(s["enum"]) + [None]
            elif "enum" in s and not composed:
                s["enum"] = list(s["enum"]) + [None]
            else:
                s = {"anyOf": [{"type": "null"}, s]}
        return s

    def build_view(self, view: str) -> dict:
        out = {}
        for name, s in self.schemas.items():
            if view == "request":
                out[name] = self.tx(s, view, False)
                out[name + _IN_PROPS_SUFFIX] = self.tx(s, view, True)
            else:
                out[name + _RESPONSE_SUFFIX] = self.tx(s, view, False)
        return out


# ---------------------------------------------------------------------------
# jsonschema glue
# ---------------------------------------------------------------------------


@functools.cache
def _validator_classes():
    from jsonschema import Draft4Validator, ValidationError, validators

    def required(validator, required, instance, schema):
        if not validator.is_type(instance, "object"):
            return
        for prop in required:
            if prop not in instance:
                yield ValidationError(f"{prop!r} is a required property", path=[prop])

    def read_only(validator, value, instance, schema):
        if value and instance is not None:
            yield ValidationError("attribute is read-only")

    def write_only(validator, value, instance, schema):
        if value and instance is not None:
            yield ValidationError("attribute is write-only")

    def lenient_properties(validator, properties, instance, schema):
        if not validator.is_type(instance, "object"):
            return
        req = schema.get("required") or ()
        for prop, sub in properties.items():
            if prop in instance:
                value = instance[prop]
                if value is None and prop not in req:
                    continue
                yield from validator.descend(value, sub, path=prop, schema_path=prop)

    common = {"required": required, _READ_ONLY_KW: read_only, _WRITE_ONLY_KW: write_only}
    request_cls = validators.extend(Draft4Validator, common)
    response_cls = validators.extend(Draft4Validator, {**common, "properties": lenient_properties})
    return request_cls, response_cls


_JSON_TYPES = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
    (type(None), "null"),
)


def _json_type(value: Any) -> str:
    for py, name in _JSON_TYPES:
        if isinstance(value, py):
            return name
    return type(value).__name__


def _dotted(path: Iterable[Any]) -> str:
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        else:
            out += ("." if out else "") + str(seg)
    return out


def _num(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _is_null_branch(err) -> bool:
    return err.validator == "type" and err.validator_value == "null"


def _most_specific(err):
    """Descend into anyOf/oneOf context, preferring the deepest error."""
    while err.context:
        candidates = [c for c in err.context if not _is_null_branch(c)]
        if not candidates:
            break
        # deepest first; on a tie prefer a wrong value over a missing attribute
        # (the branch whose attributes are present is the one the client meant)
        err = max(candidates, key=lambda c: (len(c.absolute_path), c.validator != "required"))
    return err


# what a keyword's failure says when only the keyword's value matters: {v} is that value, {num} the value as a
# number is written, {s} the plural ending it asks for
_MESSAGES = {
    "required": "is required",
    "minLength": "must be at least {v} characters long",
    "maxLength": "must be at most {v} characters long",
    "minItems": "must contain at least {v} item{s}",
    "maxItems": "must contain at most {v} item{s}",
    "uniqueItems": "must not contain duplicate items",
    "pattern": "must match the pattern {v}",
    "multipleOf": "must be a multiple of {num}",
    "minProperties": "must have at least {v} attribute{s}",
    "maxProperties": "must have at most {v} attribute{s}",
    _READ_ONLY_KW: "is read-only",
    _WRITE_ONLY_KW: "is write-only and must not be returned",
    "not": "has a value that is not allowed",
}


def _message(err, root_label: str) -> tuple[str, str]:
    path = _dotted(err.absolute_path)
    subject = f"attribute '{path}'" if path else root_label
    kw, val, inst = err.validator, err.validator_value, err.instance
    schema = err.schema if isinstance(err.schema, dict) else {}
    if kw == "type":
        types = val if isinstance(val, list) else [val]
        named = [t for t in types if t != "null"] or ["null"]
        msg = f"must be of type {' or '.join(named)}"
        if "null" in types and named != ["null"]:
            msg += " (or null)"
        msg += f", got {_json_type(inst)}"
    elif kw in _MESSAGES:
        msg = _MESSAGES[kw].format(v=val, num=_num(val), s="s" if val != 1 else "")
    elif kw == "enum":
        msg = "must be one of: " + ", ".join(str(v) for v in val if v is not None)
    elif kw == "minimum":
        msg = f"must be greater than {_num(val)}" if schema.get("exclusiveMinimum") else f"must be at least {_num(val)}"
    elif kw == "maximum":
        msg = f"must be less than {_num(val)}" if schema.get("exclusiveMaximum") else f"must be at most {_num(val)}"
    elif kw == "additionalProperties":
        known = set(schema.get("properties") or ())
        extras = sorted(k for k in inst if k not in known) if isinstance(inst, dict) else []
        msg = "contains unknown attributes: " + ", ".join(extras) if extras else "contains unknown attributes"
    elif kw == "oneOf" and not err.context:
        msg = "matches more than one of the allowed schemas"
    elif kw in ("oneOf", "anyOf"):
        msg = "does not match any of the allowed schemas"
    else:
        msg = err.message
    return path, f"{subject} {msg}"


def _walk(value: Any) -> Iterable[tuple[list[Any], Any]]:
    """Every value inside `value` with its path (keys and indexes), depth first, without recursion: the
    body has not been checked for depth yet."""
    stack: list[tuple[list[Any], Any]] = [([], value)]
    while stack:
        path, v = stack.pop()
        yield path, v
        if isinstance(v, dict):
            stack.extend((path + [k], sub) for k, sub in v.items())
        elif isinstance(v, list):
            stack.extend((path + [i], sub) for i, sub in enumerate(v))


def too_deep(body: Any, limit: int = MAX_BODY_DEPTH) -> bool:
    """Whether objects and arrays nest more than `limit` levels deep in the body."""
    return any(len(path) > limit for path, _ in _walk(body))


def _string_errors(body: Any) -> list[tuple[str, str]]:
    out = []
    for path, v in _walk(body):
        if not isinstance(v, str):
            continue
        where = _dotted(path)
        label = f"attribute '{where}'" if where else "request body"
        if _CONTROL_CHARS.search(v):
            out.append((where, f"{label} must not contain control characters"))
        elif path and path[-1] == "name" and len(v) > NAME_MAX_LENGTH:
            out.append((where, f"{label} must be at most {NAME_MAX_LENGTH} characters long"))
    return sorted(out)[:MAX_ERRORS]


def _collect(validator, instance, root_label: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for err in validator.iter_errors(instance):
        item = _message(_most_specific(err), root_label)
        if item not in out:
            out.append(item)
            if len(out) >= MAX_ERRORS:
                break
    return out


# ---------------------------------------------------------------------------
# lenient input: numeric and boolean strings, enums in any case
# ---------------------------------------------------------------------------


_INT_RE = re.compile(r"[+-]?\d+")
_NUM_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _types(schema: Any, defs: Mapping[str, Any]) -> set[str] | None:
    """The JSON types a (request view) schema accepts; None: any."""
    if not isinstance(schema, dict):
        return None
    found: set[str] | None = None
    t = schema.get("type")
    if t is not None:
        found = set(t) if isinstance(t, list) else {t}
    parts = [defs.get(_ref_name(schema["$ref"]))] if "$ref" in schema else []
    for sub in [*parts, *(schema.get("allOf") or ())]:
        inner = _types(sub, defs)
        if inner is not None:
            found = inner if found is None else found & inner
    branches = [*(schema.get("anyOf") or ()), *(schema.get("oneOf") or ())]
    if branches:
        union: set[str] = set()
        for sub in branches:
            inner = _types(sub, defs)
            if inner is None:
                return found
            union |= inner
        found = union if found is None else found & union
    return found


def _coerce_scalar(value: Any, schema: Mapping[str, Any], types: set[str] | None) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip()
    if types is not None and "string" not in types:
        if types & {"integer", "number"} and _INT_RE.fullmatch(text):
            return int(text)
        if "number" in types and _NUM_RE.fullmatch(text) and math.isfinite(float(text)):
            return float(text)
        if "boolean" in types and text.lower() in ("true", "false"):
            return text.lower() == "true"
        return value
    enum = schema.get("enum")
    if enum and value not in enum:
        same = [e for e in enum if isinstance(e, str) and e.lower() == value.lower()]
        if len(same) == 1:
            return same[0]
    return value


def _coerce(value: Any, schema: Any, defs: Mapping[str, Any]) -> Any:
    """`value` with what the real service takes leniently made canonical (numbers, booleans, enums), as far
    as `schema` tells; what it cannot make sense of is returned as it is, for validation to refuse."""
    if not isinstance(schema, dict):
        return value
    if "$ref" in schema:
        value = _coerce(value, defs.get(_ref_name(schema["$ref"])), defs)
    for sub in schema.get("allOf") or ():
        value = _coerce(value, sub, defs)
    branches = [*(schema.get("anyOf") or ()), *(schema.get("oneOf") or ())]
    if branches and isinstance(value, (dict, list)):
        for sub in branches:
            value = _coerce(value, sub, defs)
    elif branches and not any(_json_type(value) in (_types(b, defs) or {_json_type(value)}) for b in branches):
        for sub in branches:
            new = _coerce(value, sub, defs)
            if new is not value:
                return new
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        out = {}
        for k, v in value.items():
            sub = props.get(k, extra if isinstance(extra, dict) else None)
            out[k] = _coerce(v, sub, defs) if sub is not None else v
        return out
    if isinstance(value, list):
        items = schema.get("items")
        return [_coerce(v, items, defs) for v in value] if isinstance(items, dict) else value
    if "type" in schema or "enum" in schema:
        return _coerce_scalar(value, schema, _types(schema, defs))
    return value


# ---------------------------------------------------------------------------
# parameters
# ---------------------------------------------------------------------------


def _param_value_error(label: str, raw: str, schema: Mapping[str, Any]) -> str | None:
    t = schema.get("type", "string")
    value: Any = raw
    if t == "integer":
        s = raw.strip()
        if not _INT_RE.fullmatch(s):
            return f"{label} must be an integer, got {raw!r}"
        value = int(s)
        bits = 32 if schema.get("format") == "int32" else 64
        if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):  # what the real services parse it into
            return f"{label} is out of range for a {bits}-bit integer"
    elif t == "number":
        s = raw.strip()
        if not _NUM_RE.fullmatch(s):
            return f"{label} must be a number, got {raw!r}"
        value = float(s)
        if not math.isfinite(value):
            return f"{label} must be a number, got {raw!r}"
    elif t == "boolean":
        low = raw.strip().lower()
        if low not in ("true", "false"):
            return f"{label} must be true or false, got {raw!r}"
        value = low == "true"
    elif t == "array":
        items = schema.get("items") or {}
        parts = [p for p in raw.split(",")] if raw != "" else []
        if "minItems" in schema and len(parts) < schema["minItems"]:
            return f"{label} must contain at least {schema['minItems']} values"
        if "maxItems" in schema and len(parts) > schema["maxItems"]:
            return f"{label} must contain at most {schema['maxItems']} values"
        for part in parts:
            err = _param_value_error(label, part, items)
            if err:
                return err
        return None

    enum = schema.get("enum")
    if enum is not None and value not in [e for e in enum if e is not None]:
        return f"{label} must be one of: " + ", ".join(str(e) for e in enum if e is not None)
    if t in ("integer", "number"):
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if lo is not None:
            if schema.get("exclusiveMinimum") and value <= lo:
                return f"{label} must be greater than {_num(lo)}"
            if value < lo:
                return f"{label} must be at least {_num(lo)}"
        if hi is not None:
            if schema.get("exclusiveMaximum") and value >= hi:
                return f"{label} must be less than {_num(hi)}"
            if value > hi:
                return f"{label} must be at most {_num(hi)}"
    elif t == "string":
        if "minLength" in schema and len(value) < schema["minLength"]:
            return f"{label} must be at least {schema['minLength']} characters long"
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return f"{label} must be at most {schema['maxLength']} characters long"
        pattern = schema.get("pattern")
        if pattern is not None:
            try:
                if not re.search(pattern, value):
                    return f"{label} must match the pattern {pattern}"
            except re.error:
                pass
    return None


def _param_errors(params: list[dict], values: Mapping[str, str], kind: str) -> list[tuple[str, str]]:
    errors = []
    for p in params:
        name = p["name"]
        raw = values.get(name)
        if raw is None:
            if p.get("required"):
                errors.append((name, f"{kind} '{name}' is required"))
            continue
        err = _param_value_error(f"{kind} '{name}'", str(raw), p.get("schema") or {})
        if err:
            errors.append((name, err))
    return errors


# ---------------------------------------------------------------------------
# Spec
# ---------------------------------------------------------------------------


def _client_settable(api: str, schemas: dict) -> dict:
    """The schemas with the read-only flag taken off the attributes the real API lets clients choose."""
    for (owner, name), attrs in CLIENT_SETTABLE.items():
        if owner == api and name in schemas:
            props = dict(schemas[name].get("properties") or {})
            for attr in attrs:
                props[attr] = {k: v for k, v in props[attr].items() if k != "readOnly"}
            schemas = {**schemas, name: {**schemas[name], "properties": props}}
    return schemas


class Spec:
    def __init__(self, data: Mapping[str, Any]):
        self.api: str = data["api"]
        self.base_path: str = data.get("basePath", "")
        self.version: str = data.get("version", "")
        self.schemas: dict = _client_settable(self.api, data.get("schemas") or {})
        self.security_schemes: dict = data.get("securitySchemes") or {}
        self.servers: list[dict] = data.get("servers") or []  # product specs: the hosts the official SDK knows
        self.operations: list[Operation] = [Operation(op) for op in data["operations"]]
        self._by_id = {op.id: op for op in self.operations}
        self._views: dict[str, dict] = {}
        self._validators: dict[tuple, Any] = {}
        self._compiled: dict[tuple, Any] = {}  # key of _validators -> its fast path (compiled.py), None if none
        self._slow: collections.defaultdict[tuple, float] = collections.defaultdict(float)  # jsonschema's seconds
        self.fast_path = True  # False: jsonschema alone (bench/validate.py measures both)
        self._write_only: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Spec {self.api} {self.version} ops={len(self.operations)}>"

    def operation(self, op_id: str) -> Operation:
        try:
            return self._by_id[op_id]
        except KeyError:
            raise KeyError(f"unknown operation {op_id!r} in {self.api} spec") from None

    def write_only_names(self, op: Operation) -> frozenset[str]:
        """The names of every property the operation's body schema marks writeOnly, at any depth (a
        password, a key): the request record masks them (engine/secrets.py)."""
        got = self._write_only.get(op.id)
        if got is None:
            names: set[str] = set()
            seen: set[str] = set()
            flag = _Transformer(self.schemas)._flag

            def walk(s: Any) -> None:
                if isinstance(s, list):
                    for sub in s:
                        walk(sub)
                    return
                if not isinstance(s, dict):
                    return
                ref = s.get("$ref")
                if isinstance(ref, str) and ref not in seen:
                    seen.add(ref)
                    walk(self.schemas.get(_ref_name(ref)))
                for pname, ps in (s.get("properties") or {}).items():
                    if flag(ps, "writeOnly"):
                        names.add(pname)
                    walk(ps)
                for key in ("items", "additionalProperties", "allOf", "anyOf", "oneOf"):
                    walk(s.get(key))

            walk((op.body or {}).get("schema"))
            got = self._write_only[op.id] = frozenset(names)
        return got

    def warm(self) -> None:
        """Import jsonschema and fastjsonschema and build both schema views now (optional; e.g. from
        a background thread at start-up) so the first request pays nothing. The compiled validators stay
        lazy: compiling all of the Cloud API's request bodies alone takes about 0.15 s."""
        _validator_classes()
        import fastjsonschema  # noqa: F401  (the fast path's first compile then pays no import)

        self._view("request")
        self._view("response")

    # -- lazy views / validators ----------------------------------------
    def _view(self, view: str) -> dict:
        v = self._views.get(view)
        if v is None:
            with self._lock:
                v = self._views.get(view)
                if v is None:
                    v = _Transformer(self.schemas).build_view(view)
                    self._views[view] = v
        return v

    def _make_validator(self, schema: Any, view: str, inside: bool, partial: bool):
        defs = self._view(view)
        root = _Transformer(self.schemas).tx(schema, view, inside)
        if partial and isinstance(root, dict) and set(root) == {"$ref"}:
            root = dict(defs[root["$ref"][len(_REF_PREFIX) :]])
        if partial and isinstance(root, dict):
            root.pop("required", None)
        if not isinstance(root, dict):
            root = {} if root is True else {"not": {}}
        root = dict(root)
        root["schemas"] = defs
        request_cls, response_cls = _validator_classes()
        cls = request_cls if view == "request" else response_cls
        return cls(root)

    def _request_validator(self, op: Operation, keep_omitted: bool = False):
        """The body's validator; with `keep_omitted`, a PUT's `properties` need not hold the required ones."""
        key = ("req", op.id, keep_omitted)
        v = self._validators.get(key)
        if v is None:
            # only body_errors asks, and only for an operation whose body has a schema
            assert op.body is not None, f"{op.id} has no request body"
            schema = op.body["schema"]
            ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
            inside = op.method == "PATCH" or "Properties" in ref[len(_REF_PREFIX) :]
            v = self._make_validator(schema, "request", inside, partial=op.method == "PATCH")
            if keep_omitted and op.method == "PUT":
                v = type(v)(_optional_properties(v.schema))
            self._validators[key] = v
        return v

    def _response_schema(self, op: Operation, status: int | str):
        status = str(status)
        resp = op.responses.get(status)
        if resp is None and len(status) == 3:
            resp = op.responses.get(status[0] + "XX") or op.responses.get(status[0] + "xx")
        if resp is None:
            resp = op.responses.get("default")
        return resp, status

    # -- public validation API ------------------------------------------
    def coerce_body(self, op: Operation, body: Any) -> Any:
        """The body with what the real service takes leniently made canonical: numeric and boolean strings
        where the schema wants numbers and booleans, enums in their own spelling (see `_coerce`)."""
        if op.body is None or op.body.get("schema") is None or body is None:
            return body
        root = self._request_validator(op).schema
        return _coerce(body, root, root["schemas"])

    def body_errors(self, op: Operation, body: Any, keep_omitted: bool = False) -> list[tuple[str, str]]:
        if op.body is None or op.body.get("schema") is None:
            return []
        if body is None:
            if op.body.get("required"):
                return [("", "request body is required")]
            return []
        errors = _string_errors(body) or self._errors(
            ("req", op.id, keep_omitted), self._request_validator(op, keep_omitted), body, "request body"
        )
        if isinstance(body, dict) and body.get("id") and "properties" not in body:
            # {"id": ...} names an existing resource to attach (a CD-ROM image, a volume, a NIC, a user):
            # the clients send no properties then, although the model marks them required
            errors = [e for e in errors if not (e[0] == "properties" and "required" in e[1])]
        return errors

    def response_errors(self, op: Operation, status: int, body: Any) -> list[tuple[str, str]]:
        resp, status_key = self._response_schema(op, status)
        if resp is None or resp.get("schema") is None:
            return []
        key = ("resp", op.id, status_key)
        v = self._validators.get(key)
        if v is None:
            v = self._make_validator(resp["schema"], "response", False, partial=False)
            self._validators[key] = v
        return self._errors(key, v, body, "response body")

    def _errors(self, key: tuple, validator: Any, instance: Any, root_label: str) -> list[tuple[str, str]]:
        """No errors where the compiled validator of `validator`'s schema accepts `instance` (the fast path);
        otherwise jsonschema's errors, worded by `_collect` as always. A validator is compiled once jsonschema
        has spent COMPILE_AFTER seconds on it, about what compiling costs: one used a few times (most, in a
        test run) never pays for compiling, one used often pays it once."""
        fast = self._compiled.get(key) if self.fast_path else None
        if fast is None and self.fast_path and key not in self._compiled and self._slow[key] >= COMPILE_AFTER:
            from .compiled import compile_validator

            fast = self._compiled[key] = compile_validator(validator.schema, lenient=key[0] == "resp")
        if fast is not None:
            try:
                fast(instance)
                return []
            except Exception:  # refused, or could not tell: jsonschema decides and words it
                return _collect(validator, instance, root_label)
        start = time.perf_counter()
        errors = _collect(validator, instance, root_label)
        self._slow[key] += time.perf_counter() - start
        return errors

    def query_errors(self, op: Operation, query: Mapping[str, str]) -> list[tuple[str, str]]:
        return _param_errors(self._resolved_query_params(op), query, "query parameter")

    def _resolved_query_params(self, op: Operation) -> list[dict[str, Any]]:
        """The operation's query parameters with a `$ref` schema replaced by the schema it names (an enum of
        states, say), so that it is checked and made canonical like an inline one."""
        out = []
        for p in op.query_params:
            schema = p.get("schema") or {}
            seen = 0
            while "$ref" in schema and seen < 8:
                schema, seen = self.schemas.get(_ref_name(schema["$ref"]), {}), seen + 1
            out.append({**p, "schema": schema})
        return out

    def canonical_query(self, op: Operation, pairs: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
        """Lenient like the real services (issue 9, rule 1): an enum value in any case becomes the spec's
        spelling and a boolean `TRUE`/`False` becomes `true`/`false`. The pairs changed, or None if none did."""
        schemas = {p["name"]: p["schema"] for p in self._resolved_query_params(op)}
        changed = False
        out = []
        for name, value in pairs:
            schema = schemas.get(name) or {}
            new = value
            if schema.get("type") == "boolean" and value.strip().lower() in ("true", "false"):
                new = value.strip().lower()
            elif isinstance(schema.get("enum"), list) and value not in schema["enum"]:
                new = next((e for e in schema["enum"] if isinstance(e, str) and e.lower() == value.lower()), value)
            changed = changed or new != value
            out.append((name, new))
        return out if changed else None

    def header_errors(self, op: Operation, headers: Mapping[str, str]) -> list[tuple[str, str]]:
        lowered = {str(k).lower(): v for k, v in headers.items()}
        params = [dict(p, name=p["name"].lower()) for p in op.header_params]
        errs = _param_errors(params, lowered, "header")
        names = {p["name"].lower(): p["name"] for p in op.header_params}
        return [(names.get(n, n), m.replace(f"'{n}'", f"'{names.get(n, n)}'")) for n, m in errs]


def _optional_properties(root: dict) -> dict:
    """`root` (a resource's request schema) with nothing required inside its `properties` object."""
    defs = root["schemas"]
    while set(root) - {"schemas"} == {"$ref"}:
        root = {**defs[_ref_name(root["$ref"])], "schemas": defs}
    attrs = dict(root.get("properties") or {})
    inner = attrs.get("properties")
    if not isinstance(inner, dict):
        return root
    while set(inner) == {"$ref"}:
        inner = defs[_ref_name(inner["$ref"])]
    attrs["properties"] = {k: v for k, v in inner.items() if k != "required"}
    return {**root, "properties": attrs}


def _read(api: str) -> dict:
    if api not in APIS:
        raise ValueError(f"unknown api {api!r}; compiled specs: {', '.join(APIS)}")
    return orjson.loads((DATA_DIR / f"{api}.json").read_bytes())


_specs: dict[str, Spec] = {}
_specs_lock = threading.Lock()


def load(api: str) -> Spec:
    """The compiled spec, read on first use and kept: one Spec per API, also when requests in several
    threads are the first to use it."""
    got = _specs.get(api)
    if got is None:
        with _specs_lock:
            got = _specs.get(api)
            if got is None:
                got = _specs[api] = Spec(_read(api))
    return got


def loaded() -> list[Spec]:
    """The specs loaded so far."""
    return list(_specs.values())


class OpHead(NamedTuple):
    id: str
    method: str
    path: str


class Head(NamedTuple):
    """What mounting an API needs of its spec before its first request (prefix, hosts, handlers, listings),
    kept small: the whole spec (schemas, parameters, responses) is loaded by `load` when it is first used."""

    base_path: str
    version: str
    servers: list[dict]
    operations: tuple[OpHead, ...]


@functools.cache
def head(api: str) -> Head:
    data = _read(api)
    return Head(
        data.get("basePath", ""),
        data.get("version", ""),
        data.get("servers") or [],
        tuple(OpHead(op["id"], op["method"], op["path"]) for op in data["operations"]),
    )
