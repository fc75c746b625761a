"""/_emulator/...: health, reset, timing, forced failures, the spec violations seen in strict mode, and the
remote console pages of Cloud API servers."""

from __future__ import annotations

import uuid

import orjson

from ..apis.cloud.compute import CONSOLE_PATH, console_page
from ..dataplanes import ingest
from ..engine.clock import MAX_OFFSET, MAX_SPEED, parse_filter_date, real_now
from ..engine.errors import ApiError
from ..engine.lifecycle import FailureRule, Timing
from ..gateway.context import Reply
from . import guard


def build_admin(emu):
    def body(raw: bytes) -> dict:
        try:
            data = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            raise ApiError(400, "The request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise ApiError(422, "The request body must be a JSON object")
        return data

    def health(method, query, raw, base):
        from ..endpoints import endpoints as table

        return Reply(200, {"status": "ok", "apis": table(emu.apis, base), "timing": emu.lifecycle.timing.profile})

    def reset(method, query, raw, base):
        emu.reset()
        return Reply(200, {"reset": True})

    def timing(method, query, raw, base):
        if method in ("PUT", "POST", "PATCH"):
            data = body(raw)
            profile = data.get("profile", emu.lifecycle.timing.profile)
            if profile not in ("instant", "realistic"):
                raise ApiError(422, "profile must be 'instant' or 'realistic'")
            overrides = data.get("overrides", emu.lifecycle.timing.overrides if method == "PATCH" else {})
            if not isinstance(overrides, dict):
                raise ApiError(422, "overrides must map resource kinds to seconds")
            emu.lifecycle.timing = Timing(profile, {str(k)[:128]: guard.seconds(v) for k, v in overrides.items()})
        return Reply(200, emu.lifecycle.timing.as_dict())

    def failures(method, query, raw, base):
        if method == "POST":
            data = body(raw)
            method_of = str(data.get("method", "*")).upper()
            if method_of not in guard.METHODS:
                raise ApiError(422, f"'method' must be one of {', '.join(guard.METHODS)}")
            mode = data.get("mode", "regex")
            if mode not in ("regex", "substring"):
                raise ApiError(422, "'mode' must be 'regex' (the default) or 'substring'")
            rule = FailureRule(
                method=method_of,
                path=guard.text(data, "path", guard.MAX_PATTERN),
                message=guard.text(data, "message", default=FailureRule.message),
                count=guard.integer(data, "count", 1, guard.MAX_COUNT, default=1),
                mode=mode,
            )
            # a bad or runaway pattern would otherwise break (or freeze) every later change, far from its cause
            if mode == "regex":
                guard.safe_pattern(rule.path)
            emu.lifecycle.add_failure(rule)
        elif method == "DELETE":
            emu.lifecycle.clear_failures()
        return Reply(200, [vars(r) for r in emu.lifecycle.failures])

    def clock(method, query, raw, base):
        """The emulated clock: `offsetSeconds` (from real time), `advanceSeconds` (forward from now), `speed`
        (emulated seconds per real second), `now` (an ISO time to jump to); DELETE: real time again."""
        if method == "DELETE":
            emu.clock.reset()
        elif method in ("PUT", "POST", "PATCH"):
            data = body(raw)
            unknown = sorted(set(data) - {"offsetSeconds", "advanceSeconds", "speed", "now"})
            if unknown:
                raise ApiError(422, f"unknown clock setting '{unknown[0]}' (offsetSeconds, advanceSeconds, speed, now)")
            offset = guard.number(data, "offsetSeconds", -MAX_OFFSET, MAX_OFFSET)
            if "now" in data:
                if offset is not None:
                    raise ApiError(422, "give 'now' or 'offsetSeconds', not both")
                when = parse_filter_date(str(data["now"])) if isinstance(data["now"], str) else None
                if when is None:
                    raise ApiError(422, "'now' must be a date-time such as 2030-01-01T00:00:00Z")
                offset = when - real_now()
                if abs(offset) > MAX_OFFSET:
                    raise ApiError(422, "'now' is more than a hundred years away")
            if method == "PUT" and offset is None:  # a PUT says the whole clock: what it leaves out is real
                offset = 0.0
            speed = guard.number(data, "speed", 0.0, MAX_SPEED)
            if method == "PUT" and speed is None:
                speed = 1.0
            advance = guard.number(data, "advanceSeconds", 0.0, MAX_OFFSET) or 0.0
            emu.clock.set(offset=offset, advance=advance, speed=speed)
        return Reply(200, emu.clock.describe())

    def traffic(method, query, raw, base):
        """Traffic the Billing API reports (it is zero unless recorded here): GB in and out of a data center on a
        day, for a contract (the default one unless named)."""
        if method == "POST":
            data = body(raw)
            number = guard.integer(data, "contractNumber", 1, guard.MAX_INT32, default=emu.identity.contract_number)
            if emu.identity.contract(number) is None:
                raise ApiError(422, f"contract {number} does not exist")
            dc = guard.text(data, "datacenterId", 64)
            try:
                dc = str(uuid.UUID(dc))
            except ValueError:
                raise ApiError(422, "'datacenterId' must be a data center's id (a UUID)") from None
            date = guard.text(data, "date", 10)
            if parse_filter_date(date) is None or len(date) != 10:
                raise ApiError(422, "'date' must be a day, YYYY-MM-DD")
            gb_in = guard.number(data, "inGB", 0.0, 1e12) or 0.0
            gb_out = guard.number(data, "outGB", 0.0, 1e12) or 0.0
            with emu.store.tx():
                emu.store.kv_set(f"traffic:{number}:{dc}:{date}", {"in": gb_in, "out": gb_out})
        return Reply(200, [{"key": k, **v} for k, v in emu.store.kv_prefix("traffic:")])

    def alarms(method, query, raw, base):
        """Moves a Monitoring as a Service alarm to a state (OK, ALARM, INSUFFICIENT_DATA), as its metric would."""
        from ..apis import maas

        data = body(raw)
        number = guard.integer(data, "contractNumber", 1, guard.MAX_INT32, default=emu.identity.contract_number)
        state = data.get("state")
        if state not in maas.STATES:
            raise ApiError(422, f"'state' must be one of {', '.join(maas.STATES)}")
        try:
            return Reply(200, maas.move(emu.store, number, guard.text(data, "alarmId", 64), state, emu.clock.now()))
        except LookupError as e:
            raise ApiError(404, str(e)) from None

    def violations(method, query, raw, base):
        if method == "DELETE":
            emu.violations.clear()
        return Reply(200, emu.violations)

    def coverage(method, query, raw, base):
        """Tests label the calls that follow; the coverage report says which test exercised which operation."""
        if method == "POST":
            emu.observations.label = str(body(raw).get("test", ""))[: guard.MAX_TEXT]
        implemented = {f"{m.api.name}:{op.id}": op.id in m.api.handlers for m in emu.mounts.all for op in m.operations}
        return Reply(
            200, {"implemented": implemented, "exercised": {k: sorted(v) for k, v in emu.observations.coverage.items()}}
        )

    def contracts(method, query, raw, base):
        """More contracts (tenants), each with its owner: their resources never see each other."""
        if method == "POST":
            data = body(raw)
            number = guard.integer(data, "contractNumber", 1, guard.MAX_INT32)
            user = guard.text(data, "user", guard.MAX_EMAIL)
            password = guard.text(data, "password")
            limits = data.get("resourceLimits") or {}
            if not isinstance(limits, dict):
                raise ApiError(422, "'resourceLimits' maps limit names to integers")
            for key in limits:
                guard.integer(limits, key, 0, guard.MAX_INT32)
            reseller = data.get("reseller", False)
            if not isinstance(reseller, bool):
                raise ApiError(422, "'reseller' must be true (a reseller's master contract) or false")
            try:
                with emu.store.tx():  # the owner's password is held to the IONOS default password policy
                    emu.identity.create_contract(number, user, password, limits, reseller=reseller)
            except ValueError as e:
                raise ApiError(422, str(e)) from None
        return Reply(200, emu.identity.contracts())

    def journal(method, query, raw, base):
        """The request journal (journal.py): filtered entries, or HAR 1.2 with ?format=har; DELETE empties it."""
        from ..journal import har

        if method == "DELETE":
            emu.journal.clear()
            return Reply(200, [])
        for name in ("after", "limit"):
            if query.get(name) is not None and not str(query.get(name)).isdigit():
                raise ApiError(422, f"'{name}' must be a non-negative integer")
        entries = emu.journal.select(query)
        if query.get("format") == "har":
            return Reply(200, har(entries, _version()))
        return Reply(200, [e.public() for e in entries])

    def chaos(method, query, raw, base):
        """Chaos rules (chaos.py): GET lists them, POST adds one (or {"enforceRateLimits": bool}, {"seed": n}),
        PUT replaces them all ({"rules": [...]}), DELETE removes them all."""
        from ..chaos import MAX_RULES, parse, public

        rules = emu.chaos.rules()
        if method in ("POST", "PUT"):
            data = body(raw)
            enforce = data.pop("enforceRateLimits", None)
            seed = data.pop("seed", None)
            if enforce is not None and not isinstance(enforce, bool):
                raise ApiError(422, "'enforceRateLimits' must be true or false")
            if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
                raise ApiError(422, "'seed' must be an integer")
            if method == "PUT":
                listed = data.get("rules", [])
                if not isinstance(listed, list) or not all(isinstance(r, dict) for r in listed):
                    raise ApiError(422, "'rules' must be a list of rules")
                rules = [parse(r, guard.safe_pattern) for r in listed]
            elif data or (enforce is None and seed is None):  # a rule (an empty body is a rule without effect)
                rules.append(parse(data, guard.safe_pattern))
            if len(rules) > MAX_RULES:
                raise ApiError(422, f"at most {MAX_RULES} chaos rules")
            emu.chaos.save(rules, enforce, seed)
        elif method == "DELETE":
            rules = []
            emu.chaos.save(rules, False)
        return Reply(
            200,
            {
                "rules": [public(r, emu.chaos.hits.get(r.id, 0)) for r in rules],
                "enforceRateLimits": emu.chaos.enforce_rate_limits,
            },
        )

    def snapshots(method, path, raw):
        """/_emulator/snapshots[/<name>[/load]], /_emulator/snapshots/export and /import (snapshots.py)."""
        import io

        from ..snapshots import Snapshots, export, verify

        named = Snapshots(emu.settings.data_dir)
        rest = path[len("/_emulator/snapshots") :].strip("/")
        version = _version()
        if rest == "":
            if method == "GET":
                return Reply(200, named.list())
            if method == "POST":
                name = guard.text(body(raw), "name", 64)
                return Reply(201, named.save(name, emu.store, emu.settings.data_dir, version))
        elif rest == "export" and method == "GET":
            out = io.BytesIO()
            export(emu.store, emu.settings.data_dir, out, version)
            return Reply(200, out.getvalue(), content_type="application/gzip")
        elif rest == "import" and method in ("PUT", "POST"):
            return Reply(200, emu.load_snapshot(io.BytesIO(raw)))
        elif rest.endswith("/load") and method == "POST":
            with open(named.existing(rest[: -len("/load")]), "rb") as source:
                return Reply(200, emu.load_snapshot(source))
        elif "/" not in rest:
            if method == "GET":
                return Reply(200, named.existing(rest).read_bytes(), content_type="application/gzip")
            if method == "DELETE":
                named.delete(rest)
                return Reply(200, named.list())
            if method == "PUT":  # an exported file, kept under a name (it must be a snapshot this emulator reads)
                verify(io.BytesIO(raw))
                target = named.path(rest)
                named.dir.mkdir(parents=True, exist_ok=True)
                target.write_bytes(raw)
                return Reply(200, named.list())
        raise ApiError(405 if rest in ("", "export", "import") else 404, f"No emulator endpoint {method} {path}")

    def apis(method, query, raw, base):
        """What the web console browses: every mounted API and its top-level collections (GET, no parameters)."""
        out = []
        for m in emu.mounts.all:
            collections = sorted(
                op.path for op in m.operations if op.method == "GET" and "{" not in op.path and op.path != "/"
            )
            name = m.api.product or m.api.name
            out.append({"name": name, "location": m.api.location, "prefix": m.api.prefix, "collections": collections})
        return Reply(200, out)

    def endpoints(method, query, raw, base):
        from ..endpoints import endpoints as table

        return Reply(200, table(emu.apis, base))

    routes = {
        "/_emulator/endpoints": ({"GET"}, endpoints),
        "/_emulator/apis": ({"GET"}, apis),
        "/_emulator/contracts": ({"GET", "POST"}, contracts),
        "/_emulator/coverage": ({"GET", "POST"}, coverage),
        "/_emulator/clock": ({"GET", "PUT", "POST", "PATCH", "DELETE"}, clock),
        "/_emulator/traffic": ({"GET", "POST"}, traffic),
        "/_emulator/maas/alarms": ({"POST"}, alarms),
        "/_emulator/health": ({"GET"}, health),
        "/_emulator/reset": ({"POST"}, reset),
        "/_emulator/timing": ({"GET", "PUT", "POST", "PATCH"}, timing),
        "/_emulator/failures": ({"GET", "POST", "DELETE"}, failures),
        "/_emulator/violations": ({"GET", "DELETE"}, violations),
        "/_emulator/journal": ({"GET", "DELETE"}, journal),
        "/_emulator/chaos": ({"GET", "POST", "PUT", "DELETE"}, chaos),
    }

    # what the pipelines of Logging and Monitoring received (dataplanes/ingest.py)
    received = {
        f"/_emulator/{api}/": (lambda pid, api=api: ingest.received(emu.store, api, pid))
        for api in ("logging", "monitoring")
    }

    def dispatch(method, path, query, raw, base_url, authorization: str | None = None) -> Reply:
        if path.startswith(CONSOLE_PATH) and method == "GET":  # a remote console URL: its token is its credential
            return console_page(emu.store, path[len(CONSOLE_PATH) :])
        guard.authorise(emu, path, authorization)
        if path.rstrip("/") == "/_emulator/snapshots" or path.startswith("/_emulator/snapshots/"):
            return snapshots(method, path, raw)
        entry = routes.get(path.rstrip("/"))
        for prefix, view in received.items():  # /_emulator/logging/<pipelineId>, ...
            rest = path[len(prefix) :].strip("/") if path.startswith(prefix) else ""
            if entry is None and rest:
                entry = ({"GET"}, lambda method, query, raw, base, view=view, rest=rest: view(rest))
        if entry is None:
            raise ApiError(404, f"No emulator endpoint at {path}")
        methods, fn = entry
        if method not in methods:
            raise ApiError(405, f"Method {method} is not allowed on {path}")
        return fn(method, query, raw, base_url)

    return dispatch


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ionos-emulator")
    except PackageNotFoundError:  # run from a source tree
        return "0+source"
