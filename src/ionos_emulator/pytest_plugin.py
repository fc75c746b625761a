"""The pytest plugin the package registers (entry point `pytest11`): an `ionos_emulator` fixture, an
in-process emulator (ionos_emulator.testing.LocalEmulator) started once per session on a free loopback
port, with fresh state for every test unless `--ionos-emulator-state=session` keeps it across tests.

    def test_datacenter(ionos_emulator):
        with ionoscloud.ApiClient(ionos_emulator.configuration()) as client:
            ...
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .testing import LocalEmulator


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ionos-emulator")
    group.addoption(
        "--ionos-emulator-state",
        choices=("test", "session"),
        default="test",
        help="fresh emulator state for every test (default), or one state for the whole session",
    )
    group.addoption(
        "--ionos-emulator-strict",
        action="store_true",
        default=False,
        help="check every emulator response against the compiled spec (a violation answers 500)",
    )


@pytest.fixture(scope="session")
def _ionos_emulator_server(pytestconfig: pytest.Config) -> Iterator[LocalEmulator]:
    with LocalEmulator(strict=bool(pytestconfig.getoption("ionos_emulator_strict"))) as emu:
        yield emu


@pytest.fixture
def ionos_emulator(_ionos_emulator_server: LocalEmulator, pytestconfig: pytest.Config) -> LocalEmulator:
    """The session's emulator; reset before the test unless the state is kept for the session."""
    if pytestconfig.getoption("ionos_emulator_state") == "test":
        _ionos_emulator_server.reset()
    return _ionos_emulator_server
