"""Snapshots: the emulator's whole state in one portable, versioned file, saved by name in the data dir
(`<data dir>/snapshots/<name>.tar.gz`) or exported and imported as a file (CLI `snapshot ...`,
/_emulator/snapshots).

A snapshot is a gzipped tar holding `manifest.json` (format, version, when, by which emulator),
`store.json` (every contract, user, token key, resource, request and setting: the store's tables) and
`files/` (what the data planes keep in the data dir: object bytes, blobs, the local CA). Loading replaces the
store in one transaction and the files after the archive was read whole, so a broken file changes nothing.
Left out: the database file itself, other snapshots, and the private database servers of `--dataplanes
local` (their clusters come back as records; docs/fidelity.md, "Operator tools")."""

from __future__ import annotations

import datetime
import io
import json
import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from .engine.errors import ApiError
from .store import sqlite

FORMAT = "ionos-emulator-snapshot"
VERSION = 1
# format version -> the function that makes a manifest and store of that version into the next one's
UPGRADES: dict[int, Callable[[dict[str, Any], dict[str, Any]], None]] = {}
# top-level entries of the data dir that are not snapshot content
LEFT_OUT = (*sqlite.FILES, "snapshots", "dataplanes")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _content(data_dir: Path) -> list[Path]:
    if not data_dir.is_dir():
        return []
    return sorted(p for p in data_dir.iterdir() if p.name not in LEFT_OUT and not p.name.startswith(".snapshot-"))


def export(store: Any, data_dir: str | Path, out: IO[bytes], emulator_version: str = "") -> dict[str, Any]:
    """Writes the snapshot of `store` and the data dir's content to `out`; its manifest."""
    data_dir = Path(data_dir)
    tables = store.export_tables()
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "emulator": emulator_version,
        "counts": {name: len(rows) for name, rows in tables.items()},
    }
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, payload in (("manifest.json", manifest), ("store.json", tables)):
            blob = json.dumps(payload, separators=(",", ":")).encode()
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
        for path in _content(data_dir):
            tar.add(path, arcname=f"files/{path.name}")
    return manifest


def _read_json(tar: tarfile.TarFile, name: str) -> Any:
    try:
        member = tar.extractfile(name)
    except KeyError:
        member = None
    if member is None:
        raise ApiError(422, f"not an emulator snapshot: {name} is missing")
    try:
        return json.loads(member.read())
    except ValueError:
        raise ApiError(422, f"not an emulator snapshot: {name} is not JSON") from None


def _checked(manifest: Any, store: Any) -> dict[str, Any]:
    """The manifest and store of a snapshot upgraded to this version, or a 422 saying why not."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ApiError(422, "not an emulator snapshot (its manifest names another format)")
    version = manifest.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ApiError(422, "the snapshot's manifest has no format version")
    if version > VERSION:
        raise ApiError(
            422,
            f"the snapshot has format version {version}: made by a newer ionos-emulator (this one reads {VERSION})",
        )
    while version < VERSION:
        upgrade = UPGRADES.get(version)
        if upgrade is None:
            raise ApiError(
                422,
                f"the snapshot has format version {version}, which this ionos-emulator cannot upgrade to {VERSION}",
            )
        upgrade(manifest, store)
        version = manifest["version"] = version + 1
    if not isinstance(store, dict) or not all(isinstance(store.get(t), list) for t in ("resources", "requests", "kv")):
        raise ApiError(422, "not an emulator snapshot: store.json lacks its tables")
    return manifest


def verify(source: IO[bytes]) -> dict[str, Any]:
    """The manifest of a snapshot this emulator can load (a 422 otherwise), nothing loaded."""
    try:
        with tarfile.open(fileobj=source, mode="r:*") as tar:
            return _checked(_read_json(tar, "manifest.json"), _read_json(tar, "store.json"))
    except (tarfile.TarError, EOFError, OSError) as e:
        raise ApiError(422, f"not an emulator snapshot: {e}") from None


def load(store: Any, data_dir: str | Path, source: IO[bytes]) -> dict[str, Any]:
    """Replaces the store and the data dir's content with the snapshot's; its manifest. Nothing changes when
    the snapshot is unreadable or refused."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".snapshot-", dir=data_dir))
    try:
        try:
            with tarfile.open(fileobj=source, mode="r:*") as tar:
                manifest = _read_json(tar, "manifest.json")
                tables = _read_json(tar, "store.json")
                manifest = _checked(manifest, tables)
                members = [m for m in tar.getmembers() if m.name.startswith("files/")]
                for m in members:
                    parts = Path(m.name).parts
                    if m.name.startswith("/") or ".." in parts or not (m.isfile() or m.isdir()):
                        raise ApiError(422, f"the snapshot holds an unsafe entry: {m.name}")
                tar.extractall(staging, members=members, filter="data")
        except (tarfile.TarError, EOFError, OSError) as e:
            raise ApiError(422, f"not an emulator snapshot: {e}") from None
        try:
            store.import_tables(tables)
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise ApiError(422, f"the snapshot's store is damaged: {e!r}") from None
        incoming = staging / "files"
        for path in _content(data_dir):  # the store is in; now the files
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        if incoming.is_dir():
            for path in incoming.iterdir():
                path.rename(data_dir / path.name)
        return manifest
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class Snapshots:
    """Named snapshots in `<data dir>/snapshots`."""

    def __init__(self, data_dir: str | Path):
        self.dir = Path(data_dir) / "snapshots"

    def path(self, name: str) -> Path:
        if not NAME.fullmatch(name or ""):
            raise ApiError(
                422, "a snapshot name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        return self.dir / f"{name}.tar.gz"

    def existing(self, name: str) -> Path:
        path = self.path(name)
        if not path.is_file():
            raise ApiError(404, f"no snapshot named '{name}'")
        return path

    def list(self) -> list[dict[str, Any]]:
        out = []
        for path in sorted(self.dir.glob("*.tar.gz")):
            stat = path.stat()
            created = datetime.datetime.fromtimestamp(stat.st_mtime, datetime.timezone.utc)
            out.append(
                {
                    "name": path.name[: -len(".tar.gz")],
                    "bytes": stat.st_size,
                    "created": created.isoformat(timespec="seconds"),
                }
            )
        return out

    def save(self, name: str, store: Any, data_dir: str | Path, emulator_version: str = "") -> dict[str, Any]:
        path = self.path(name)
        self.dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with open(partial, "wb") as out:
            manifest = export(store, data_dir, out, emulator_version)
        partial.replace(path)  # a crash never leaves a half snapshot under the name
        return {"name": name, **manifest}

    def delete(self, name: str) -> None:
        self.existing(name).unlink()
