"""The emulator's block in a hosts file (/etc/hosts): every real IONOS API host name -> the emulator.

The block is marked by two comment lines, so applying it again replaces it (idempotent) and removing it
leaves the rest of the file as it was."""

from __future__ import annotations

import os
from pathlib import Path

BEGIN = "# >>> ionos-emulator: real IONOS API host names served locally (ionos-emulator hosts --remove) >>>"
END = "# <<< ionos-emulator <<<"


def default_path() -> str:
    if os.name == "nt":
        return os.path.join(os.environ.get("SystemRoot", r"C:\Windows"), "System32", "drivers", "etc", "hosts")
    return "/etc/hosts"


def lines(address: str, hosts: list[str]) -> list[str]:
    """One line per host name (some resolvers limit the names of one line)."""
    return [f"{address}\t{h}" for h in hosts]


def block(address: str, hosts: list[str]) -> str:
    return "\n".join([BEGIN, *lines(address, hosts), END]) + "\n"


def without_block(text: str) -> str:
    """The text with every emulator block removed (an unterminated one runs to the end)."""
    out: list[str] = []
    inside = False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped == BEGIN:
            inside = True
        elif inside and stripped == END:
            inside = False
        elif not inside:
            out.append(line)
    return "".join(out)


def apply(path: str | os.PathLike[str], address: str, hosts: list[str]) -> bool:
    """Adds (or replaces) the block; True when the file changed."""
    p = Path(path)
    old = p.read_text() if p.exists() else ""
    rest = without_block(old)
    if rest and not rest.endswith("\n"):
        rest += "\n"
    new = rest + block(address, hosts)
    return _write(p, old, new)


def remove(path: str | os.PathLike[str]) -> bool:
    """Removes the block; True when the file changed."""
    p = Path(path)
    if not p.exists():
        return False
    old = p.read_text()
    return _write(p, old, without_block(old))


def _write(p: Path, old: str, new: str) -> bool:
    if new == old:
        return False
    # in place, not by rename: /etc/hosts may be a bind mount (containers) or a link, and keeps its owner and mode
    with open(p, "w") as f:
        f.write(new)
    return True
