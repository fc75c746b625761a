"""IONOS Object Storage: the S3 data plane, served on the emulator's port before the JSON pipeline, for the
requests whose Host is an Object Storage endpoint (`s3.eu-central-3.ionoscloud.com`, virtual-hosted
`bucket.s3.eu-central-3.ionoscloud.com`, a bucket's website host) or whose path starts with a region's prefix
(`/s3/eu-central-3/...`). Reading order: regions.py (where), auth.py and keys.py (who), service.py (what:
buckets, objects, uploads, listings), configs.py (sub-resources), access.py (owner, policy, ACL, CORS),
meta.py and blobs.py (where it is kept), xml.py (how it is spelled)."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from .regions import for_request

if TYPE_CHECKING:
    from .service import S3


class S3Service:
    """Object Storage as the app sees it: which requests are its own (`match`: by Host or path) and the
    service that answers them, made with its modules (service.py and the rest, XML and all) by the first
    of them (`s3`): most emulators are never sent one, and every start-up would pay for them."""

    def __init__(self, services, object_dir: str):
        self.services, self.object_dir = services, object_dir
        self._s3: S3 | None = None
        self._lock = threading.Lock()

    @property
    def s3(self) -> S3:
        if self._s3 is None:
            with self._lock:
                if self._s3 is None:
                    from .plane import S3  # plane.py's imports register the sub-resources too

                    self._s3 = S3(self.services, self.object_dir)
        return self._s3

    @staticmethod
    def match(scope) -> tuple | None:
        host = ""
        for k, v in scope.get("headers", ()):
            if k == b"host":
                host = v.decode("latin-1")
                break
        raw_path = scope.get("raw_path", b"").decode("latin-1") or scope.get("path", "")
        path = raw_path.partition("?")[0]
        return for_request(host, path)

    async def __call__(self, scope, receive, send, target: tuple) -> None:
        from .plane import serve

        await serve(self.s3, scope, receive, send, target)


def object_dir(settings) -> str:
    return settings.object_dir or os.path.join(settings.data_dir, "objects")
