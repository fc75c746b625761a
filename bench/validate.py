"""Body and response validation in-process (issue 15): jsonschema alone against the compiled fast path
(spec/compiled.py), both measured in this run, and what compiling costs.

    python bench/validate.py [--repeat 2000]

The bodies: a Cloud API server POST with a volume inline, a DNS zone POST, the same server POST with one
wrong type (refused: the fast path's refusal plus jsonschema's wording), and the responses strict mode
checks for a server GET at depth=1 and a list of 100 servers at depth=1, rendered by a real emulator.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import orjson

import run as bench

SERVER_POST = {
    "properties": {**bench.SERVER_PROPS, "cpuFamily": "INTEL_SKYLAKE"},
    "entities": {
        "volumes": {"items": [{"properties": {"name": "root", "size": 10, "type": "HDD", "licenceType": "LINUX"}}]}
    },
}
ZONE_POST = {"properties": {"zoneName": "example.com", "description": "bench", "enabled": True}}


def per_call(fn: Callable[[], Any], repeat: int) -> float:
    """Seconds per call: the best of 5 rounds of `repeat` calls."""
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, (time.perf_counter() - t0) / repeat)
    return best


def rendered_responses() -> tuple[Any, Any]:
    """A server at depth=1 and a page of 100 servers at depth=1, as the emulator renders them."""
    from ionos_emulator.app import Emulator, request_scope
    from ionos_emulator.settings import Settings

    data = tempfile.mkdtemp(prefix="ionos-bench-validate-")
    try:
        emu = Emulator(Settings(data_dir=data, timing="instant", strict=False))

        def call(method: str, path: str, query: str = "", body: bytes = b"") -> Any:
            reply, _ = emu.handle(request_scope(method, path, bench.AUTH, query), body)
            return reply.body if not isinstance(reply.body, bytes) else orjson.loads(reply.body)

        dc = call("POST", "/cloudapi/v6/datacenters", body=bench.DC_BODY.encode())["id"]
        post = json.dumps({"properties": bench.SERVER_PROPS}).encode()
        ids = [call("POST", f"/cloudapi/v6/datacenters/{dc}/servers", body=post)["id"] for _ in range(100)]
        call("GET", "/cloudapi/v6/requests")  # settles them
        one = call("GET", f"/cloudapi/v6/datacenters/{dc}/servers/{ids[0]}", "depth=1")
        page = call("GET", f"/cloudapi/v6/datacenters/{dc}/servers", "depth=1&limit=100")
        emu.store.close()
        return one, page
    finally:
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2000)
    a = ap.parse_args()
    from ionos_emulator.spec import COMPILE_AFTER, DATA_DIR, Spec
    from ionos_emulator.spec.compiled import compile_validator

    def spec(api: str, fast: bool) -> Spec:
        s = Spec(orjson.loads((DATA_DIR / f"{api}.json").read_bytes()))
        s.fast_path = fast
        return s

    one, page = rendered_responses()
    bad = {"properties": {**SERVER_POST["properties"], "cores": "two"}, "entities": SERVER_POST["entities"]}
    # (label, api, operation, body or response)
    cases: list[tuple[str, str, str, Any]] = [
        ("Cloud server POST", "cloud", "datacentersServersPost", SERVER_POST),
        ("DNS zone POST", "dns", "zonesPost", ZONE_POST),
        ("Cloud server POST, one wrong type", "cloud", "datacentersServersPost", bad),
        ("response: server, depth=1", "cloud", "datacentersServersFindById", one),
        ("response: 100 servers, depth=1", "cloud", "datacentersServersGet", page),
    ]
    print(f"{'':36} {'jsonschema':>12} {'compiled':>12} {'ratio':>7}")
    for label, api, op_id, body in cases:
        slow, fast = spec(api, False), spec(api, True)
        op = slow.operation(op_id)

        def check(s: Spec, op: Any = op, body: Any = body) -> Any:
            return s.body_errors(op, body) if op.method != "GET" else s.response_errors(op, 200, body)

        assert check(slow) == check(fast), label  # the same errors either way
        repeat = a.repeat if "100" not in label else max(20, a.repeat // 50)
        t_slow = per_call(lambda s=slow: check(s), repeat)
        t_fast = per_call(lambda s=fast: check(s), repeat)
        print(f"{label:36} {t_slow * 1e6:9.1f} µs {t_fast * 1e6:9.1f} µs {t_slow / t_fast:6.1f}x")

    # what compiling costs (lazy: once per validator, on its first use)
    cloud = spec("cloud", True)
    costs = []
    for op in cloud.operations:
        if op.body and op.body.get("schema"):
            schema = cloud._request_validator(op).schema
            t0 = time.perf_counter()
            compile_validator(schema, lenient=False)
            costs.append((time.perf_counter() - t0, op.id))
    costs.sort(reverse=True)
    top = ", ".join(f"{op_id} {t * 1e3:.1f} ms" for t, op_id in costs[:3])
    total = sum(t for t, _ in costs) * 1e3
    print(f"\ncompiling the Cloud API's {len(costs)} request validators: {total:.0f} ms; the biggest: {top}")
    cloud.response_errors(cloud.operation("datacentersServersGet"), 200, None)  # builds its jsonschema validator
    t0 = time.perf_counter()
    compile_validator(cloud._validators[("resp", "datacentersServersGet", "200")].schema, lenient=True)
    print(f"compiling the response validator of a server list: {(time.perf_counter() - t0) * 1e3:.1f} ms")
    print(f"(a validator is compiled once jsonschema has spent COMPILE_AFTER = {COMPILE_AFTER * 1e3:.0f} ms on it)")


if __name__ == "__main__":
    main()
