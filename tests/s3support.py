"""Helpers of the Object Storage tests: keys from the Cloud API (UserS3KeysApi) and from the Object Storage
Management API (its official SDK), and boto3 clients on the emulator's region prefixes."""

from __future__ import annotations

import uuid

import boto3
import ionoscloud
from botocore.config import Config

from support import OWNER, bearer, wait

USER_OWNED = "eu-central-2"
CONTRACT_OWNED = "eu-central-3"


def user_id_of(client, email: str = OWNER[0]) -> str:
    users = ionoscloud.UserManagementApi(client).um_users_get(depth=1).items
    return next(u.id for u in users if u.properties.email == email)


def cloud_key(client, user_id: str | None = None) -> tuple[str, str]:
    """A new S3 key of the user (the owner by default), made with the Cloud API SDK."""
    uid = user_id or user_id_of(client)
    k, _, h = ionoscloud.UserS3KeysApi(client).um_users_s3keys_post_with_http_info(uid)
    wait(client, h)
    return k.id, k.properties.secret_key


def management_client(emu, cred: tuple[str, str] = OWNER):
    import ionoscloud_object_storage_management as osm

    cfg = osm.Configuration(host=emu.url + "/objectstoragemanagement", token=bearer(emu, cred))
    return osm.ApiClient(cfg)


def management_key(emu, cred: tuple[str, str] = OWNER, description: str = "tests"):
    """A new access key made with the Object Storage Management SDK: (id, access key, secret)."""
    import ionoscloud_object_storage_management as osm

    with management_client(emu, cred) as c:
        k = osm.AccesskeysApi(c).accesskeys_post(osm.AccessKeyCreate(properties=osm.AccessKey(description=description)))
    return k.id, k.properties.access_key, k.properties.secret_key


def s3_client(emu, region: str, key: tuple[str, str], style: str = "path", **config):
    return boto3.client(
        "s3",
        endpoint_url=f"{emu.url}/s3/{region}",
        region_name=region,
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
        config=Config(s3={"addressing_style": style, **config.pop("s3", {})}, retries={"max_attempts": 1}, **config),
    )


def code(e) -> tuple[int, str]:
    """(HTTP status, S3 error code) of a botocore ClientError caught by pytest.raises."""
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"], e.value.response["Error"]["Code"]


def owner_cloud_key(emu) -> tuple[str, str]:
    """An S3 key of the contract owner, made with the Cloud API SDK."""
    from conftest import sdk_client

    with sdk_client(emu) as client:
        return cloud_key(client)


def bucket_name(stem: str = "b") -> str:
    return f"{stem}-{uuid.uuid4().hex[:12]}"


def sign_v4(
    method: str,
    url: str,
    key: tuple[str, str],
    region: str,
    *,
    body: bytes = b"",
    headers=None,
    when=None,
    payload=None,
):
    """Headers of a request signed by botocore's own SigV4 signer, for what boto3 will not send: an old date
    (`when`), a body other than the one signed, a payload hash of our choosing (x-amz-content-sha256)."""
    import botocore.auth as ba
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    signer = ba.S3SigV4Auth(Credentials(*key), "s3", region)
    if payload is not None:
        signer.payload = lambda request: payload  # type: ignore[method-assign]
    saved = ba.get_current_datetime
    if when is not None:
        ba.get_current_datetime = lambda: when
    try:
        signer.add_auth(req)
    finally:
        ba.get_current_datetime = saved
    return dict(req.headers.items())


def aws_chunked(data: bytes, key: tuple[str, str], region: str, headers: dict, chunk: int = 65536) -> bytes:
    """The aws-chunked body of `data` with each chunk's SigV4 signature, chained from the request's."""
    import hashlib
    import hmac

    seed = headers["Authorization"].rsplit("Signature=", 1)[1]
    amz_date = headers["X-Amz-Date"]
    scope = f"{amz_date[:8]}/{region}/s3/aws4_request"

    def h(k: bytes, m: str) -> bytes:
        return hmac.new(k, m.encode(), hashlib.sha256).digest()

    skey = h(h(h(h(("AWS4" + key[1]).encode(), amz_date[:8]), region), "s3"), "aws4_request")
    out, prev = b"", seed
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)] + [b""]
    for piece in pieces:
        sts = "\n".join(
            ["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, hashlib.sha256(b"").hexdigest(),
             hashlib.sha256(piece).hexdigest()]
        )  # fmt: skip
        prev = hmac.new(skey, sts.encode(), hashlib.sha256).hexdigest()
        out += f"{len(piece):x};chunk-signature={prev}\r\n".encode() + piece + b"\r\n"
    return out
