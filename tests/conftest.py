"""Fixtures: one shared strict emulator for the run, fresh ones where a test needs its own state."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from support import (
    OWNER,
    VIOLATIONS,
    Emulator,
    InProcessEmulator,
    close_http_client,
    drop_test_databases,
    write_coverage,
)

_RUNNING: list[Emulator] = []

# tests that need a real PostgreSQL, MariaDB or Redis server: by module, the fixtures that connect to one
DATAPLANE_FIXTURES = {
    "test_e2e_postgresql": {"server"},
    "test_e2e_mariadb": {"mariadb"},
    "test_e2e_inmemorydb": {"redis_plane"},
    "test_e2e_local_dataplanes": {"local_planes"},
}


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config, items):
    """Markers by module and fixture, so test files need not carry them (declared in pyproject.toml):
    e2e: every tests/test_e2e_*.py; fuzz: tests/test_fuzz.py; reliability: tests/test_reliability.py;
    dataplane: needs a database server;
    slow: starts emulator processes of its own (make_emulator: restarts, kills, workers, data planes)."""
    for item in items:
        module = item.path.stem
        fixtures = set(getattr(item, "fixturenames", ()))
        if module.startswith("test_e2e_"):
            item.add_marker(pytest.mark.e2e)
        if module == "test_fuzz":
            item.add_marker(pytest.mark.fuzz)
        if module == "test_reliability":
            item.add_marker(pytest.mark.reliability)
        if fixtures & DATAPLANE_FIXTURES.get(module, set()):
            item.add_marker(pytest.mark.dataplane)
        if "make_emulator" in fixtures:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory) -> Emulator:
    """The run's shared strict emulator, in this process (a uvicorn thread on a loopback port)."""
    yield from _in_process(tmp_path_factory, "shared")


def _in_process(tmp_path_factory, name: str):
    emu = InProcessEmulator(tmp_path_factory.mktemp(name) / "data").start()
    _RUNNING.append(emu)
    yield emu
    emu.stop()
    _RUNNING.remove(emu)


@pytest.fixture(scope="module")
def own_emulator(tmp_path_factory) -> Emulator:
    """A strict in-process emulator of the test module's own (tests that move its clock or need a clean contract)."""
    yield from _in_process(tmp_path_factory, "own")


@pytest.fixture
def make_emulator(tmp_path):
    """Start private emulators (e.g. to restart or kill them); stopped after the test."""
    mine: list[Emulator] = []

    def make(name: str = "own", root: Path | None = None, **kw) -> Emulator:
        emu = Emulator((root or tmp_path) / name, **kw)
        emu.start()
        mine.append(emu)
        _RUNNING.append(emu)
        return emu

    yield make
    for emu in mine:
        emu.stop()
        if emu in _RUNNING:
            _RUNNING.remove(emu)


@pytest.fixture(autouse=True)
def _label_and_check(request):
    """Labels every call with the test's id (coverage report) and fails a test whose responses broke the spec."""
    for emu in _RUNNING:
        if emu.running:
            emu.label(request.node.nodeid)
    request.addfinalizer(lambda: _check_violations(request))
    yield


def _check_violations(request):
    found = []
    for emu in _RUNNING:
        if emu.running:
            v = emu.admin("GET", "violations").json()
            if v:
                found += v
                emu.admin("DELETE", "violations")
    if found:
        VIOLATIONS.extend(found)
        pytest.fail(f"responses violated the compiled spec: {found[:3]}", pytrace=False)


def sdk_client(emu: Emulator, *, user: str = OWNER[0], password: str = OWNER[1], token: str | None = None):
    import ionoscloud

    cfg = ionoscloud.Configuration(
        host=emu.cloud, username=None if token else user, password=None if token else password, token=token
    )
    return ionoscloud.ApiClient(cfg)


@pytest.fixture
def client(emulator):
    with sdk_client(emulator) as c:
        yield c


def pytest_sessionfinish(session, exitstatus):
    for emu in list(_RUNNING):
        emu.stop()
    write_coverage()
    close_http_client()
    drop_test_databases()
