"""The metadata of buckets, objects, versions and multipart uploads, in the store's key/value table (SQLite or
PostgreSQL alike), under keys whose order is S3's listing order, so a listing page is one range read however
many keys the bucket holds:

    s3b:<region>/<bucket>                      the bucket: owner, versioning, object lock, configurations
    s3own:<owner>/<region>/<bucket>            its owner's index (ListBuckets): owner u:<user> or c:<contract>
    s3o:<region>/<bucket>/<key>                the object's current version (possibly a delete marker)
    s3v:<region>/<bucket>/<key>\x01<order>     a noncurrent version, newest first (order: inverted time)
    s3u:<region>/<bucket>/<key>\x01<upload>    a multipart upload in progress
    s3p:<upload>/<part, 5 digits>              an uploaded part

A version's bytes are a blob (blobs.py), named in its record once complete."""

from __future__ import annotations

import secrets
import time

from ..store import Store

SEP = "\x01"  # between a key and what orders its versions or uploads (below every printable character)
MAX_ORDER = 10**20


def order_now() -> str:
    """Newer sorts first: the time inverted, zero-padded."""
    return f"{MAX_ORDER - time.time_ns():020d}"


def new_version_id() -> str:
    return order_now() + secrets.token_hex(6)


def new_upload_id() -> str:
    return f"{time.time_ns():020d}" + secrets.token_urlsafe(24).replace("-", "A").replace("_", "B")


def bucket_key(region: str, name: str) -> str:
    return f"s3b:{region}/{name}"


def owner_of(bucket: dict) -> str:
    return f"c:{bucket['tenant']}" if bucket["contract"] else f"u:{bucket['user']}"


def objects_prefix(region: str, bucket: str) -> str:
    return f"s3o:{region}/{bucket}/"


def versions_prefix(region: str, bucket: str) -> str:
    return f"s3v:{region}/{bucket}/"


def uploads_prefix(region: str, bucket: str) -> str:
    return f"s3u:{region}/{bucket}/"


class Meta:
    def __init__(self, store: Store):
        self.store = store

    # -- buckets -----------------------------------------------------------------------------------
    def bucket(self, region: str, name: str) -> dict | None:
        found: dict | None = self.store.kv_get(bucket_key(region, name))
        return found

    def put_bucket(self, b: dict) -> None:
        self.store.kv_set(bucket_key(b["region"], b["name"]), b)
        self.store.kv_set(f"s3own:{owner_of(b)}/{b['region']}/{b['name']}", b["created"])

    def delete_bucket(self, b: dict) -> None:
        self.store.kv_delete(bucket_key(b["region"], b["name"]))
        self.store.kv_delete(f"s3own:{owner_of(b)}/{b['region']}/{b['name']}")

    def buckets_of(self, owner: str) -> list[dict]:
        out = []
        for k, _ in self.store.kv_prefix(f"s3own:{owner}/"):
            region, _, name = k[len(f"s3own:{owner}/") :].partition("/")
            b = self.bucket(region, name)
            if b is not None:
                out.append(b)
        return out

    def is_empty(self, region: str, name: str) -> bool:
        return not self.store.kv_page(objects_prefix(region, name), limit=1) and not self.store.kv_page(
            versions_prefix(region, name), limit=1
        )

    # -- objects -----------------------------------------------------------------------------------
    def current(self, region: str, bucket: str, key: str) -> dict | None:
        found: dict | None = self.store.kv_get(objects_prefix(region, bucket) + key)
        return found

    def set_current(self, region: str, bucket: str, rec: dict) -> None:
        self.store.kv_set(objects_prefix(region, bucket) + rec["key"], rec)

    def drop_current(self, region: str, bucket: str, key: str) -> None:
        self.store.kv_delete(objects_prefix(region, bucket) + key)

    def page(self, region: str, bucket: str, prefix: str, after: str, limit: int) -> list[tuple[str, dict]]:
        """Up to `limit` (key, current record) with the prefix, after the key `after`, in key order."""
        base = objects_prefix(region, bucket)
        rows = self.store.kv_page(base + prefix, base + after if after else "", limit)
        return [(k[len(base) :], v) for k, v in rows]

    # -- noncurrent versions -----------------------------------------------------------------------
    def noncurrent(self, region: str, bucket: str, key: str) -> list[dict]:
        """The key's noncurrent versions, newest first."""
        return [v for _, v in self.store.kv_page(versions_prefix(region, bucket) + key + SEP, limit=1_000_000)]

    def add_noncurrent(self, region: str, bucket: str, rec: dict) -> None:
        rec.setdefault("order", order_now())
        self.store.kv_set(versions_prefix(region, bucket) + rec["key"] + SEP + rec["order"], rec)

    def drop_noncurrent(self, region: str, bucket: str, rec: dict) -> None:
        self.store.kv_delete(versions_prefix(region, bucket) + rec["key"] + SEP + rec["order"])

    def version(self, region: str, bucket: str, key: str, version_id: str) -> tuple[dict | None, bool]:
        """(the record of that version, whether it is the current one)."""
        cur = self.current(region, bucket, key)
        if cur is not None and cur.get("vid", "null") == version_id:
            return cur, True
        if version_id != "null" and len(version_id) > 20:
            found = self.store.kv_get(versions_prefix(region, bucket) + key + SEP + version_id[:20])
            if found is not None and found.get("vid") == version_id:
                return found, False
            return None, False
        return next((v for v in self.noncurrent(region, bucket, key) if v.get("vid") == version_id), None), False

    def versions_page(self, region: str, bucket: str, prefix: str, after: str, limit: int) -> list[tuple[str, dict]]:
        """Noncurrent versions in (key, newest first) order, after the stored key `after`."""
        base = versions_prefix(region, bucket)
        rows = self.store.kv_page(base + prefix, after, limit)
        return [(k, v) for k, v in rows]

    # -- multipart uploads -------------------------------------------------------------------------
    def upload(self, region: str, bucket: str, key: str, upload_id: str) -> dict | None:
        found: dict | None = self.store.kv_get(uploads_prefix(region, bucket) + key + SEP + upload_id)
        return found

    def put_upload(self, region: str, bucket: str, up: dict) -> None:
        self.store.kv_set(uploads_prefix(region, bucket) + up["key"] + SEP + up["id"], up)

    def drop_upload(self, region: str, bucket: str, up: dict) -> list[str]:
        """Forgets the upload and its parts; the parts' blobs, to free."""
        parts = self.parts(up["id"])
        for p in parts:
            self.store.kv_delete(f"s3p:{up['id']}/{p['n']:05d}")
        self.store.kv_delete(uploads_prefix(region, bucket) + up["key"] + SEP + up["id"])
        return [p["blob"] for p in parts]

    def uploads_page(self, region: str, bucket: str, prefix: str, after: str, limit: int) -> list[dict]:
        base = uploads_prefix(region, bucket)
        return [v for _, v in self.store.kv_page(base + prefix, base + after if after else "", limit)]

    def part(self, upload_id: str, n: int) -> dict | None:
        found: dict | None = self.store.kv_get(f"s3p:{upload_id}/{n:05d}")
        return found

    def put_part(self, upload_id: str, part: dict) -> None:
        self.store.kv_set(f"s3p:{upload_id}/{part['n']:05d}", part)

    def parts(self, upload_id: str, after: int = 0, limit: int = 10_001) -> list[dict]:
        rows = self.store.kv_page(f"s3p:{upload_id}/", f"s3p:{upload_id}/{after:05d}" if after else "", limit)
        return [v for _, v in rows]
