"""Schemathesis (its CLI, unmodified) against a live strict emulator: generated requests for every
operation of the Cloud API and the Auth API must never get a 5xx, and every response must conform to the
compiled spec. Bounded and deterministic so CI stays fast and repeatable."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ionos_emulator import spec as specs
from ionos_emulator.spec import openapi
from support import OWNER, Emulator

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
AUTH = "Authorization: Basic " + base64.b64encode(":".join(OWNER).encode()).decode()


def _st() -> str:
    exe = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    if exe is None:
        pytest.fail("schemathesis (the `st` command) is not installed; it is a test dependency")
    return exe


@pytest.mark.parametrize("api", ["cloud", "auth"])
def test_fuzz_no_server_errors_and_spec_conformance(api, tmp_path, request):
    emu = Emulator(tmp_path / "data").start()
    emu.label(request.node.nodeid)  # the coverage report credits the operations fuzzing reached
    try:
        spec = specs.load(api)
        doc = tmp_path / f"{api}.json"
        doc.write_text(json.dumps(openapi.document(spec, emu.url)))
        cmd = [
            _st(),
            "run",
            str(doc),
            "--url",
            emu.url + spec.base_path,
            "-H",
            AUTH,
            "-c",
            "not_a_server_error,response_schema_conformance",
            "-n",
            str(EXAMPLES),
            "--generation-deterministic",
            "--phases",
            "examples,fuzzing",
            "--continue-on-failure",
            "--request-timeout",
            "10",
            "--no-color",
        ]
        run = subprocess.run(
            cmd, capture_output=True, text=True, timeout=900, cwd=tmp_path, env={**os.environ, "SCHEMATHESIS_HOOKS": ""}
        )
    finally:
        emu.stop()
    start = run.stdout.find("FAILURES")
    tail = run.stdout[max(0, start) :][:20000] if start >= 0 else run.stdout[-6000:]
    assert run.returncode == 0, f"schemathesis found failures:\n{tail}"
    assert "Tested" in run.stdout, tail
