"""The response cache: a GET's encoded answer, served again while nothing it depends on can have changed.

Always right, by construction:
  * the key is the whole request as the handler could see it: the raw path, the query, every header (so
    the caller, its Accept and its host, hence its hrefs) and the base URL;
  * every entry belongs to one store version (`Store.version`, read by the request before anything else):
    a change by this process or any other sharing the database moves it, and the whole cache is dropped;
  * nothing is stored or served while a lifecycle request is pending (the clock alone would change the
    answer: QUEUED -> RUNNING -> DONE), and only for APIs whose GET answers are a function of the store
    (`ApiModule.cached_reads`);
  * an entry is served only for the handler that made it (tests replace handlers).
Per-request headers (the rate limits) are added to every answer afterwards. Bounded by bytes and entries.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .context import Reply

MAX_BYTES = 16 * 1024 * 1024
MAX_ENTRIES = 4096


@dataclass(frozen=True, slots=True)
class Cached:
    handler: Callable[..., Any] | None
    status: int
    payload: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...]
    reuse: Any = None  # the Reply's own (gateway/front.py keeps it with the answer)

    def reply(self) -> Reply:
        return Reply(self.status, self.payload, dict(self.headers), content_type=self.content_type, reuse=self.reuse)


class ResponseCache:
    def __init__(self, max_bytes: int = MAX_BYTES, max_entries: int = MAX_ENTRIES) -> None:
        self.max_bytes, self.max_entries = max_bytes, max_entries
        self.version: int | None = None
        self.bytes = 0
        self.hits = 0  # answers served from the cache (the tests and the benchmark read it)
        self._entries: OrderedDict[Any, Cached] = OrderedDict()
        self._lock = threading.Lock()  # requests may run on several threads
        # moved by every clear(): an answer computed before a clear (an admin change the store does not see)
        # is not stored after it, even at the same store version (`put`'s `epoch`, read before the answer)
        self.epoch = 0

    def get(self, key: Any, version: int, handler: Callable[..., Any] | None) -> Reply | None:
        with self._lock:
            return self._get(key, version, handler)

    def _get(self, key: Any, version: int, handler: Callable[..., Any] | None) -> Reply | None:
        entry = self._entry(key, version)
        if entry is None or entry.handler is not handler:
            return None
        self.hits += 1
        return entry.reply()

    def entry(self, key: Any, version: int) -> Cached | None:
        """The entry itself, for a caller that checks its handler on its own (gateway/front.py)."""
        with self._lock:
            return self._entry(key, version)

    def _entry(self, key: Any, version: int) -> Cached | None:
        if version != self.version:  # the store moved: nothing remembered may be right any more
            self._clear()
            self.version = version
            return None
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(
        self, key: Any, version: int, handler: Callable[..., Any] | None, reply: Reply, epoch: int | None = None
    ) -> bool:
        """Remembers `reply`, whose body is already the encoded payload; not if the cache was cleared since
        `epoch` (`self.epoch` as read before the answer was made). Whether it was kept."""
        assert isinstance(reply.body, bytes)
        with self._lock:
            return (epoch is None or epoch == self.epoch) and self._put(key, version, handler, reply)

    def _put(self, key: Any, version: int, handler: Callable[..., Any] | None, reply: Reply) -> bool:
        if version != self.version or len(reply.body) > self.max_bytes // 8:
            return False
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= len(old.payload)
        entry = Cached(handler, reply.status, reply.body, reply.content_type, tuple(reply.headers.items()), reply.reuse)
        self._entries[key] = entry
        self.bytes += len(entry.payload)
        while self.bytes > self.max_bytes or len(self._entries) > self.max_entries:
            _, dropped = self._entries.popitem(last=False)
            self.bytes -= len(dropped.payload)
        return True

    def clear(self) -> None:
        with self._lock:
            self._clear()
            self.epoch += 1

    def _clear(self) -> None:
        self._entries.clear()
        self.bytes = 0
        self.version = None

    def __len__(self) -> int:
        return len(self._entries)
