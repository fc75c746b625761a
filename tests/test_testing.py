"""The emulator inside other projects' tests: the context manager, the pytest plugin (the README's example run
as written, in a pytest of its own), and the wheel that carries both."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import ionoscloud
import pytest

from ionos_emulator.testing import running

ROOT = Path(__file__).resolve().parents[1]


def _datacenter_names(emu) -> list[str]:
    with ionoscloud.ApiClient(emu.configuration()) as client:
        return [d.properties.name for d in ionoscloud.DataCentersApi(client).datacenters_get(depth=1).items]


def test_running_serves_resets_and_cleans_up():
    with running() as emu:
        data_dir = emu.data_dir
        assert emu.port > 0 and data_dir.is_dir()
        with ionoscloud.ApiClient(emu.configuration()) as client:
            props = ionoscloud.DatacenterPropertiesPost(name="ctx", location="de/fra")
            ionoscloud.DataCentersApi(client).datacenters_post(datacenter=ionoscloud.DatacenterPost(properties=props))
        assert _datacenter_names(emu) == ["ctx"]
        assert emu.endpoint("dns").endswith("/dns/de-fra")
        assert emu.token().count(".") == 2  # a JWT from the Auth API
        emu.reset()
        assert _datacenter_names(emu) == []
    assert not data_dir.exists()  # its own temporary directory is removed


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- pytest-plugin-example -->\n```python\n(.*?)```", text, re.S)
    assert block, "the README's pytest plugin example is missing"
    return block.group(1)


@pytest.mark.parametrize("state,passes", [("test", 2), ("session", 1)])
def test_the_readme_example_runs_as_written(tmp_path, state, passes):
    """Run twice in one session: with fresh state per test both runs see only their own data center; with the
    session's state the second sees the first's too, and fails."""
    example = _readme_example()
    (tmp_path / "test_example.py").write_text(
        example + "\n\ndef test_again(ionos_emulator):\n    test_my_datacenter(ionos_emulator)\n"
    )
    registered = any(
        ep.value == "ionos_emulator.pytest_plugin" for ep in importlib.metadata.entry_points(group="pytest11")
    )
    plugin = [] if registered else ["-p", "ionos_emulator.pytest_plugin"]  # an editable install made before it existed
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *plugin,
            f"--ionos-emulator-state={state}",
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert f"{passes} passed" in run.stdout, run.stdout + run.stderr


def test_the_wheel_carries_what_serving_needs(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(tmp_path.glob("ionos_emulator-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        requires = [line for line in z.read(meta).decode().splitlines() if line.startswith("Requires-Dist:")]
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
        z.extractall(tmp_path / "site")
    package = ROOT / "src" / "ionos_emulator"
    data = {
        str(p.relative_to(package.parent))
        for p in package.rglob("*")
        if p.suffix in (".json", ".md", ".html", ".css", ".js") and p.is_file()
    }
    assert data <= names, sorted(data - names)  # every spec, catalogue, note and console file the server reads
    assert "ionos_emulator/__main__.py" in names and "ionos_emulator/pytest_plugin.py" in names
    unconditional = [r for r in requires if "extra ==" not in r]
    assert any("uvicorn" in r for r in unconditional)
    assert not any(
        re.search(r"\b(pytest|ionoscloud|boto3|openai)\b", r) for r in unconditional
    )  # test dependencies stay optional
    assert "ionos-emulator = ionos_emulator.cli:main" in entry_points and "pytest11" in entry_points
    # `python -m ionos_emulator` from the wheel's files alone (its dependencies from this environment)
    help_text = subprocess.run(
        [sys.executable, "-m", "ionos_emulator", "--help"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert help_text.returncode == 0 and "serve" in help_text.stdout, help_text.stderr
