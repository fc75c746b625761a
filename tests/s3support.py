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


def bucket_name(stem: str = "b") -> str:
    return f"{stem}-{uuid.uuid4().hex[:12]}"
