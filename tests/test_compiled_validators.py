"""The compiled fast path of validation (spec/compiled.py) agrees with jsonschema on what is valid.

The fast path only ever says "valid" on its own (a refusal goes back to jsonschema for the wording), so the
danger is a body it accepts that jsonschema refuses. Both run here over bodies made from the compiled specs:
for the request bodies of every API (half the Cloud API's) and the 2xx responses of a sample of operations,
an example made from the schema, and mutations of it (wrong types, booleans and 1.0 for integers, nulls,
missing and unknown attributes, read-only and write-only ones set, enum violations, strings out of bounds).
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from fastjsonschema import JsonSchemaValueException

import ionos_emulator.spec as spec_module
from ionos_emulator.spec import _READ_ONLY_KW, _REF_PREFIX, _WRITE_ONLY_KW, APIS, DATA_DIR, Spec, load
from ionos_emulator.spec.compiled import compile_validator

_STRINGS = {
    "date-time": "2024-01-02T03:04:05Z",
    "date": "2024-01-02",
    "uuid": "15f67991-0f51-4efc-a8ad-ef1fb31a480c",
    "ipv4": "10.0.0.1",
    "ipv6": "fe80::1",
    "email": "a@example.com",
    "uri": "https://example.com/x",
}


class _Example:
    """A body for a validator's schema: every attribute that is not read-only, the first enum value, the
    first branch of a choice, numbers within bounds."""

    def __init__(self, defs: dict[str, Any]):
        self.defs = defs
        self.flagged: set[str] = set()  # names of read-only and write-only attributes met

    def make(self, s: Any, depth: int = 0) -> Any:
        if not isinstance(s, dict) or depth > 12:
            return None
        if "$ref" in s:
            return self.make(self.defs.get(s["$ref"][len(_REF_PREFIX) :]), depth + 1)
        if "allOf" in s:
            out: Any = None
            for sub in s["allOf"]:
                part = self.make(sub, depth + 1)
                out = {**out, **part} if isinstance(out, dict) and isinstance(part, dict) else part or out
            return out
        for key in ("anyOf", "oneOf"):
            if key in s:
                branches = [b for b in s[key] if b != {"type": "null"}]
                return self.make(branches[0], depth + 1) if branches else None
        if "enum" in s:
            return next((e for e in s["enum"] if e is not None), None)
        types = s.get("type")
        t = next((x for x in types if x != "null"), None) if isinstance(types, list) else types
        if t is None and "properties" in s:
            t = "object"
        if t == "object":
            out = {}
            for name, sub in (s.get("properties") or {}).items():
                if isinstance(sub, dict) and (_READ_ONLY_KW in sub or _WRITE_ONLY_KW in sub):
                    self.flagged.add(name)
                    continue
                value = self.make(sub, depth + 1)
                if value is not None:
                    out[name] = value
            return out
        if t == "array":
            item = self.make(s.get("items"), depth + 1)
            return [item] * max(1, s.get("minItems", 1)) if item is not None else []
        if t in ("integer", "number"):
            lo = s.get("minimum", 1)
            return max(lo + 1 if s.get("exclusiveMinimum") else lo, s.get("multipleOf", 0))
        if t == "boolean":
            return True
        if t == "string":
            text = _STRINGS.get(s.get("format", ""), "abc")
            return text.ljust(s.get("minLength", 0), "a")
        return None


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, path + (k,))
    elif isinstance(value, list) and value:
        out += _paths(value[0], path + (0,))
    return out


def _set(body: Any, path: tuple, value: Any, delete: bool = False) -> Any:
    if not path:
        return value
    body = copy.deepcopy(body)
    parent = body
    for seg in path[:-1]:
        parent = parent[seg]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return body


def _cases(example: Any, flagged: set[str]) -> list[Any]:
    cases = [example]
    for path in _paths(example)[:25]:
        here = example
        for seg in path:
            here = here[seg]
        for value in (None, "x", "NOT_IN_ANY_ENUM", 1, -1, 1.0, 2.5, True, False, [], {}, "a" * 300):
            if value != here or type(value) is not type(here):
                cases.append(_set(example, path, value))
        if isinstance(here, int) and not isinstance(here, bool):
            cases += [_set(example, path, float(here)), _set(example, path, here + 0.5), _set(example, path, 10**12)]
        if isinstance(here, str) and here:
            cases += [_set(example, path, here.lower()), _set(example, path, ""), _set(example, path, here + "\n")]
        if isinstance(here, list):
            cases += [_set(example, path, here * 2), _set(example, path, here + [None])]
        if isinstance(here, dict):
            for key in list(here):
                cases.append(_set(example, path + (key,), None, delete=True))
            cases.append(_set(example, path + ("zzUnknown",), 1))
            for name in sorted(flagged)[:6]:
                cases += [_set(example, path + (name,), "set"), _set(example, path + (name,), None)]
    return cases


def _ends_in_line_feed(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_ends_in_line_feed(v) for v in value.values())
    if isinstance(value, list):
        return any(_ends_in_line_feed(v) for v in value)
    return isinstance(value, str) and value.endswith("\n")


def _agree(validator: Any, lenient: bool) -> tuple[int, int]:
    fast = compile_validator(validator.schema, lenient)
    assert fast is not None, "every schema of the specs translates"
    gen = _Example(validator.schema["schemas"])
    example = gen.make(validator.schema)
    valid = total = 0
    for case in _cases(example, gen.flagged):
        expected = validator.is_valid(case)
        try:
            fast(copy.deepcopy(case))
            got = True
        except Exception:
            got = False
        # the fast path may refuse more (jsonschema then words it), never accept more
        assert not got or expected, f"compiled accepts what jsonschema refuses: {case!r}"
        # where it refuses more, only for a pattern's `$`, which it reads as `\Z` (jsonschema's `$` also
        # matches before a final line feed): the body then goes to jsonschema, which accepts it
        assert got == expected or _ends_in_line_feed(case), f"the verdicts differ on {case!r}"
        valid += expected
        total += 1
    return valid, total


@pytest.mark.parametrize("api", APIS)
def test_request_bodies_agree(api):
    spec = load(api)
    valid = total = 0
    for op in spec.operations[::2] if api == "cloud" else spec.operations:  # Cloud API: half, for time
        if not (op.body and op.body.get("schema")):
            continue
        for keep_omitted in (False, True) if op.method == "PUT" else (False,):
            v, t = _agree(spec._request_validator(op, keep_omitted), lenient=False)
            valid, total = valid + v, total + t
    # the corpus holds both kinds (an API with request bodies at all)
    assert total == 0 or 0 < valid < total


@pytest.mark.parametrize("api", ["cloud", "dns", "postgresql", "mariadb", "vpn", "certmanager", "mongodb"])
def test_responses_agree(api):
    spec = load(api)
    valid = total = 0
    for op in spec.operations[::8] if api == "cloud" else spec.operations:
        for status in op.responses:
            if not status.startswith("2") or not op.responses[status].get("schema"):
                continue
            spec.response_errors(op, int(status), None)  # builds the validator
            v, t = _agree(spec._validators[("resp", op.id, status)], lenient=True)
            valid, total = valid + v, total + t
    assert 0 < valid < total


@pytest.fixture
def compile_at_once(monkeypatch):
    """Validators compiled on their first use (not after COMPILE_AFTER seconds of jsonschema)."""
    monkeypatch.setattr(spec_module, "COMPILE_AFTER", 0.0)


def test_a_validator_is_compiled_once_jsonschema_has_spent_long_enough_on_it(monkeypatch):
    spec = Spec(orjson.loads((DATA_DIR / "dns.json").read_bytes()))
    op = spec.operation("zonesPost")
    key = ("req", op.id, False)
    body = {"properties": {"zoneName": "example.com"}}
    monkeypatch.setattr(spec_module, "COMPILE_AFTER", 3600.0)
    for _ in range(3):
        assert spec.body_errors(op, body) == []
    assert key not in spec._compiled and spec._slow[key] > 0
    monkeypatch.setattr(spec_module, "COMPILE_AFTER", spec._slow[key])
    assert spec.body_errors(op, body) == []
    assert spec._compiled[key] is not None
    spent = spec._slow[key]
    assert spec.body_errors(op, body) == []
    assert spec._slow[key] == spent  # answered by the compiled validator alone


def test_a_lenient_response_takes_null_for_what_is_not_required(compile_at_once):
    spec = load("dns")
    op = spec.operation("zonesFindById")
    body = {"id": "15f67991-0f51-4efc-a8ad-ef1fb31a480c", "type": "zone", "href": "/zones/x", "metadata": None}
    assert spec.response_errors(op, 200, body) == []
    # the compiled validator answered that on its own (not by refusing and leaving it to jsonschema)
    spec._compiled[("resp", op.id, "200")](body)
    # a required attribute may not be null, in either
    with pytest.raises(JsonSchemaValueException):
        spec._compiled[("resp", op.id, "200")]({**body, "id": None})
    assert spec.response_errors(op, 200, {**body, "id": None}) == [
        ("id", "attribute 'id' must be of type string, got null")
    ]


def test_errors_are_worded_by_jsonschema_as_before(compile_at_once):
    spec = load("dns")
    op = spec.operation("zonesPost")
    errors = spec.body_errors(op, {"properties": {"zoneName": 5}})
    assert errors == [("properties.zoneName", "attribute 'properties.zoneName' must be of type string, got integer")]
    assert spec._compiled[("req", op.id, False)] is not None


def test_the_compiled_validator_never_fills_in_defaults(compile_at_once):
    spec = load("cloud")
    op = spec.operation("datacentersServersPost")
    body = {"properties": {"name": "s", "cores": 1, "ram": 1024}}
    before = copy.deepcopy(body)
    assert spec.body_errors(op, body) == []
    assert body == before


def test_what_does_not_translate_exactly_stays_on_jsonschema():
    defs: dict[str, Any] = {}
    assert compile_validator({"type": "number", "multipleOf": 0.01, "schemas": defs}, lenient=False) is None
    assert compile_validator({"patternProperties": {"^x": {}}, "schemas": defs}, lenient=False) is None
    fast = compile_validator({"properties": {"id": {_READ_ONLY_KW: True}}, "schemas": defs}, lenient=False)
    assert fast is not None
    fast({"id": None})
    with pytest.raises(JsonSchemaValueException):
        fast({"id": "set"})


def test_a_schema_fastjsonschema_cannot_compile_stays_on_jsonschema():
    defs: dict[str, Any] = {}
    # a pattern Python's re refuses once fastjsonschema has made `$` into `\Z` inside a character class
    assert compile_validator({"type": "string", "pattern": "^[a$]+$", "schemas": defs}, lenient=False) is None
    assert compile_validator({"required": ["a", "a"], "schemas": defs}, lenient=False) is None
