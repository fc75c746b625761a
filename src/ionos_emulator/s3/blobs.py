"""The bytes of objects and parts, on disk under the object dir (--object-dir, else <data dir>/objects), one
file per object version or part: streamed in and out in blocks in a worker thread (never whole in memory,
never blocking the event loop), written to a temporary file that is fsynced and then renamed into place, so a
crash leaves at most an unreferenced temporary file and never a half object. The metadata (store) names a
blob only once its file is complete; the MD5 (the ETag) is computed as the bytes arrive."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import secrets
import shutil
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

BLOCK = 1024 * 1024  # bytes per disk read or write, handed to a thread
SYNC = getattr(os, "fdatasync", os.fsync)  # the bytes and the length are on disk before the rename
STALE_TEMP = 24 * 3600  # a temporary file this old belongs to no upload still running


# blob names: random per process, then a counter (one random draw per process, not per object; processes
# sharing the object dir draw their own)
_PREFIX = secrets.token_hex(8)
_COUNTER = itertools.count()


def new_blob_id() -> str:
    return f"{_PREFIX}{next(_COUNTER):016x}"


class Written:
    def __init__(self, blob: str, size: int, md5: bytes, sha256: str | None, crc32: int):
        self.blob, self.size, self.md5, self.sha256, self.crc32 = blob, size, md5, sha256, crc32


class Blobs:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        # the folders are made by the first write (an emulator without objects has none)
        if self.tmp.is_dir():
            self._sweep()

    def _sweep(self) -> None:
        """Temporary files left by a crash (or a connection that broke) and not touched for a day."""
        cutoff = time.time() - STALE_TEMP
        for entry in os.scandir(self.tmp):
            try:
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
            except OSError:
                pass

    def path(self, blob: str) -> Path:
        return self.root / blob[:2] / blob

    async def write(self, source: AsyncIterator[bytes], *, sha256: bool = False, crc32: bool = False) -> Written:
        """Streams `source` to a new blob; its id, size and digests (MD5 always, SHA-256 and CRC32 when asked).
        An exception (a client that went away, a digest that does not match) leaves nothing behind."""
        blob = new_blob_id()
        temp = self.tmp / blob
        loop = asyncio.get_running_loop()
        md5 = hashlib.md5()
        sha = hashlib.sha256() if sha256 else None
        crc = [0]
        try:
            f = open(temp, "wb")
        except FileNotFoundError:  # the first object (or a snapshot loaded meanwhile took the folder)
            self.tmp.mkdir(parents=True, exist_ok=True)
            f = open(temp, "wb")
        size = 0
        pending: list[bytes] = []
        buffered = 0

        def flush(blocks: list[bytes]) -> None:
            for b in blocks:
                md5.update(b)
                if sha is not None:
                    sha.update(b)
                if crc32:
                    crc[0] = zlib.crc32(b, crc[0])
                f.write(b)

        try:
            async for chunk in source:
                if not chunk:
                    continue
                size += len(chunk)
                pending.append(chunk)
                buffered += len(chunk)
                if buffered >= BLOCK:
                    blocks, pending, buffered = pending, [], 0
                    await loop.run_in_executor(None, flush, blocks)
            await loop.run_in_executor(None, self._finish, f, pending, flush, temp, blob)
        except BaseException:
            f.close()
            temp.unlink(missing_ok=True)
            raise
        return Written(blob, size, md5.digest(), sha.hexdigest() if sha else None, crc[0])

    def _finish(self, f, pending: list[bytes], flush, temp: Path, blob: str) -> None:
        flush(pending)
        f.flush()
        SYNC(f.fileno())
        f.close()
        try:
            os.replace(temp, self.path(blob))
        except FileNotFoundError:  # the folder's first blob
            (self.root / blob[:2]).mkdir(exist_ok=True)
            os.replace(temp, self.path(blob))

    async def read(self, blob: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes start..end (inclusive; None: to the end), a block at a time."""
        loop = asyncio.get_running_loop()
        f = await loop.run_in_executor(None, open, self.path(blob), "rb")
        try:
            if start:
                f.seek(start)
            left = None if end is None else end - start + 1
            while left is None or left > 0:
                n = BLOCK if left is None else min(BLOCK, left)
                data = await loop.run_in_executor(None, f.read, n)
                if not data:
                    break
                if left is not None:
                    left -= len(data)
                yield data
        finally:
            f.close()

    def read_small(self, blob: str, start: int, length: int) -> bytes:
        with open(self.path(blob), "rb") as f:
            if start:
                f.seek(start)
            return f.read(length)

    async def concat(self, blobs: list[str]) -> Written:
        """A new blob of several blobs' bytes one after another (a completed multipart upload)."""

        async def chained() -> AsyncIterator[bytes]:
            for b in blobs:
                async for data in self.read(b):
                    yield data

        return await self.write(chained())

    def delete(self, *blobs: str) -> None:
        """Frees the blobs' space (in a thread: unlinking a large file takes a while)."""
        if not blobs:
            return
        paths = [self.path(b) for b in blobs if b]

        def unlink() -> None:
            for p in paths:
                try:
                    p.unlink()
                except OSError:
                    pass

        try:
            asyncio.get_running_loop().run_in_executor(None, unlink)
        except RuntimeError:
            unlink()

    def wipe(self) -> None:
        """Every blob (the emulator's reset)."""
        if not self.root.is_dir():
            return
        for entry in os.scandir(self.root):
            if entry.is_dir() and entry.name != "tmp" and len(entry.name) == 2:
                shutil.rmtree(entry.path, ignore_errors=True)
