"""The fast path of body and response validation (issue 15): a validator compiled by fastjsonschema from a
standard draft-4 schema equivalent to the one jsonschema checks (`Spec._make_validator`).

It only answers "valid or not". Where it accepts, there are no errors; where it refuses, jsonschema runs and
words the errors as before, so messages never change. The one risk is accepting what jsonschema refuses,
so the translation is exact or refused: a keyword whose meaning the two libraries might not share makes
`compile_validator` return None (that validator stays on jsonschema). tests/test_compiled_validators.py
runs both over bodies made from the specs and asserts they agree. (Exact for what JSON decodes to; a response
body may hold a tuple where an array is wanted, which fastjsonschema takes and jsonschema does not: orjson
writes it as an array, so the answer on the wire is valid either way.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _READ_ONLY_KW, _REF_PREFIX, _WRITE_ONLY_KW

# draft-4 keywords both libraries check alike (types: bool is no number, 1.0 no integer; enums: True is
# not 1; patterns with Python's re, fastjsonschema reading `$` as `\Z`, which only refuses more)
_SAME = frozenset(
    {
        "type",
        "enum",
        "required",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "multipleOf",
    }
)
# draft-4 keywords not translated (the specs use none): a schema with one stays on jsonschema
_UNSUPPORTED = frozenset({"patternProperties", "dependencies", "additionalItems"})
_NULL = {"type": "null"}


class _Inexact(Exception):
    """The schema has something the translation does not render exactly."""


def _or_null(s: dict) -> dict:
    """`s` that also accepts null: a non-required attribute of a response (jsonschema's lenient
    `properties`). A plain typed schema takes "null" into its type (and enum), which every other keyword
    of it lets pass; anything else an anyOf, `s` first so a value that is not null costs no exception."""
    if not s:
        return s
    if "type" in s and not ({"$ref", "allOf", "anyOf", "oneOf", "not"} & s.keys()):
        t = s["type"]
        types = list(t) if isinstance(t, list) else [t]
        out = {**s, "type": types if "null" in types else types + ["null"]}
        if "enum" in s and None not in s["enum"]:
            out["enum"] = [*s["enum"], None]
        return out
    return {"anyOf": [s, _NULL]}


def _tx(s: Any, lenient: bool) -> Any:
    if isinstance(s, bool):
        return s
    if not isinstance(s, dict):
        raise _Inexact(repr(s))
    if s.get(_READ_ONLY_KW) or s.get(_WRITE_ONLY_KW):
        # read-only in a request's properties, write-only in a response: absent or null
        rest = _tx({k: v for k, v in s.items() if k not in (_READ_ONLY_KW, _WRITE_ONLY_KW)}, lenient)
        return {"allOf": [_NULL, rest]} if rest else dict(_NULL)
    out: dict[str, Any] = {}
    for k, v in s.items():
        if k in _SAME:
            if k == "multipleOf" and not isinstance(v, int):
                raise _Inexact("a float multipleOf: jsonschema divides in floats, fastjsonschema in decimals")
            out[k] = v
        elif k == "$ref":
            out[k] = v
        elif k == "properties":
            req = s.get("required") or ()
            props = {}
            for name, sub in v.items():
                sub = _tx(sub, lenient)
                props[name] = _or_null(sub) if lenient and name not in req and isinstance(sub, dict) else sub
            out[k] = props
        elif k in ("items", "additionalProperties", "not"):
            if k == "items" and isinstance(v, list):
                raise _Inexact("tuple items")
            out[k] = _tx(v, lenient)
        elif k in ("allOf", "anyOf", "oneOf"):
            out[k] = [_tx(sub, lenient) for sub in v]
        elif k in _UNSUPPORTED or k in (_READ_ONLY_KW, _WRITE_ONLY_KW):
            raise _Inexact(k)
        # anything else (format, default, description, ...) is no assertion to jsonschema's Draft4Validator
        # without a format checker: left out
    if "$ref" in out:
        return {"$ref": out["$ref"]}  # draft 4: a $ref's siblings are ignored
    return out


def _reachable(root: dict, defs: dict) -> list[str]:
    """The names of the definitions `root` refers to, directly or not: only those are compiled."""
    seen: set[str] = set()
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
                name = ref[len(_REF_PREFIX) :]
                if name not in seen and name in defs:
                    seen.add(name)
                    stack.append(defs[name])
            stack.extend(v for k, v in node.items() if k != "$ref")
        elif isinstance(node, list):
            stack.extend(node)
    return sorted(seen)


def translate(schema: dict, lenient: bool) -> dict:
    """A standard draft-4 schema for a validator's schema (its definitions under "schemas"); `lenient`: the
    response view, where a non-required attribute may be null. Raises _Inexact."""
    defs = schema.get("schemas") or {}
    root = {k: v for k, v in schema.items() if k != "schemas"}
    out = _tx(root, lenient)
    out["schemas"] = {name: _tx(defs[name], lenient) for name in _reachable(root, defs)}
    out["$schema"] = "http://json-schema.org/draft-04/schema#"
    return out


def compile_validator(schema: dict, lenient: bool) -> Callable[[Any], Any] | None:
    """The compiled validator (raises on an invalid instance), or None where the translation is not exact
    or fastjsonschema cannot compile it (then jsonschema alone decides)."""
    import fastjsonschema

    try:
        # use_default=False: never fill defaults into a body; use_formats=False: like Draft4Validator
        return fastjsonschema.compile(
            translate(schema, lenient), use_default=False, use_formats=False, detailed_exceptions=False
        )
    except Exception:  # _Inexact, a definition it refuses, a pattern re cannot compile, code exec refuses
        return None
