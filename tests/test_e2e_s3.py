"""IONOS Object Storage through boto3 with keys from the Cloud API and the management API: endpoints, SigV4,
buckets and objects."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import sdk_client
from s3support import (
    CONTRACT_OWNED,
    USER_OWNED,
    aws_chunked,
    bucket_name,
    cloud_key,
    code,
    management_key,
    owner_cloud_key,
    s3_client,
    sign_v4,
    user_id_of,
)


@pytest.fixture(scope="module")
def ukey(emulator):
    return owner_cloud_key(emulator)


@pytest.fixture(scope="module")
def s3(emulator, ukey):
    return s3_client(emulator, USER_OWNED, ukey)


def test_bucket_and_object_round_trip(s3):
    name = bucket_name()
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": USER_OWNED})
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == USER_OWNED
    put = s3.put_object(
        Bucket=name, Key="dir/hello.txt", Body=b"hello world", ContentType="text/plain", Metadata={"a": "1"}
    )
    assert put["ETag"] == '"5eb63bbbe01eeed093cb22bb8f5acdc3"'
    got = s3.get_object(Bucket=name, Key="dir/hello.txt")
    assert got["Body"].read() == b"hello world"
    assert got["ContentType"] == "text/plain" and got["Metadata"] == {"a": "1"}
    assert s3.get_object(Bucket=name, Key="dir/hello.txt", Range="bytes=6-")["Body"].read() == b"world"
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert code(e) == (409, "BucketNotEmpty")
    s3.delete_object(Bucket=name, Key="dir/hello.txt")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=name, Key="dir/hello.txt")
    assert code(e) == (404, "NoSuchKey")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert e.value.response["Error"]["Code"] == "404"


def test_wrong_secret_and_unknown_key(emulator, ukey):
    bad = s3_client(emulator, USER_OWNED, (ukey[0], "x" * 40))
    with pytest.raises(ClientError) as e:
        bad.list_buckets()
    assert code(e) == (403, "SignatureDoesNotMatch")
    unknown = s3_client(emulator, USER_OWNED, ("NOSUCHKEY00000000000", "x" * 40))
    with pytest.raises(ClientError) as e:
        unknown.list_buckets()
    assert code(e) == (403, "InvalidAccessKeyId")


def test_management_key_on_contract_owned(emulator):
    _, ak, sk = management_key(emulator)
    s3 = s3_client(emulator, CONTRACT_OWNED, (ak, sk))
    name = bucket_name("c")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": CONTRACT_OWNED})
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"x"


def test_presigned_url_over_plain_http(s3, emulator):
    import time

    import httpx

    name = bucket_name("pre")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="a b+c.txt", Body=b"presigned")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "a b+c.txt"}, ExpiresIn=60)
    assert url.startswith("http://127.0.0.1")
    r = httpx.get(url)
    assert r.status_code == 200 and r.content == b"presigned"
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": name, "Key": "up"}, ExpiresIn=60)
    assert httpx.put(put_url, content=b"uploaded").status_code == 200
    assert s3.get_object(Bucket=name, Key="up")["Body"].read() == b"uploaded"
    tampered = url.replace("a%20b", "a%20c")
    r = httpx.get(tampered)
    assert r.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in r.content
    short = s3.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "up"}, ExpiresIn=1)
    time.sleep(2.1)
    r = httpx.get(short)
    assert r.status_code == 403 and b"<Code>AccessDenied</Code>" in r.content and b"expired" in r.content


def test_unsigned_payload_and_payload_hash_checked(emulator, ukey, s3):
    import hashlib

    import httpx

    name = bucket_name("unsigned")
    s3.create_bucket(Bucket=name)
    unsigned = s3_client(emulator, USER_OWNED, ukey, s3={"payload_signing_enabled": False})
    unsigned.put_object(Bucket=name, Key="u", Body=b"not hashed")
    assert s3.get_object(Bucket=name, Key="u")["Body"].read() == b"not hashed"
    url = f"{emulator.url}/s3/{USER_OWNED}/{name}/lie"
    h = sign_v4("PUT", url, ukey, USER_OWNED, body=b"signed body")
    r = httpx.put(url, content=b"other body", headers=h)
    assert r.status_code == 400 and b"XAmzContentSHA256Mismatch" in r.content
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=name, Key="lie")  # nothing written
    assert e.value.response["Error"]["Code"] == "404"
    h = sign_v4("PUT", url, ukey, USER_OWNED, body=b"x", payload=hashlib.sha256(b"x").hexdigest())
    assert httpx.put(url, content=b"x", headers=h).status_code == 200
    assert s3.get_object(Bucket=name, Key="lie")["Body"].read() == b"x"


def test_aws_chunked_streaming_signatures(emulator, ukey, s3):
    import httpx

    name = bucket_name("chunked")
    s3.create_bucket(Bucket=name)
    data = bytes(range(256)) * 1000  # 256000 bytes: four 64 KiB chunks and the empty one
    url = f"{emulator.url}/s3/{USER_OWNED}/{name}/streamed"
    base = {"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": str(len(data))}
    h = sign_v4("PUT", url, ukey, USER_OWNED, headers=base, payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    body = aws_chunked(data, ukey, USER_OWNED, h)
    r = httpx.put(url, content=body, headers={**h, "Content-Length": str(len(body))})
    assert r.status_code == 200, r.text
    got = s3.get_object(Bucket=name, Key="streamed")
    assert got["Body"].read() == data and "ContentEncoding" not in got  # aws-chunked is not kept
    # one chunk altered after signing: refused, nothing written
    h = sign_v4("PUT", url + "2", ukey, USER_OWNED, headers=base, payload="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    body = bytearray(aws_chunked(data, ukey, USER_OWNED, h))
    body[100_000] ^= 1
    r = httpx.put(url + "2", content=bytes(body), headers={**h, "Content-Length": str(len(body))})
    assert r.status_code == 403 and b"SignatureDoesNotMatch" in r.content
    assert "Contents" not in s3.list_objects_v2(Bucket=name, Prefix="streamed2")


def test_clock_skew(emulator, ukey):
    import datetime

    import httpx

    url = f"{emulator.url}/s3/{USER_OWNED}/"
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    r = httpx.get(url, headers=sign_v4("GET", url, ukey, USER_OWNED, when=old))
    assert r.status_code == 403 and b"<Code>RequestTimeTooSkewed</Code>" in r.content


def test_signature_v2(emulator, ukey, s3):
    from botocore.config import Config

    name = bucket_name("v2")
    s3.create_bucket(Bucket=name)
    v2 = s3_client(emulator, USER_OWNED, ukey, signature_version="s3")
    assert isinstance(v2.meta.config, Config)
    v2.put_object(Bucket=name, Key="k v2", Body=b"two")
    assert v2.get_object(Bucket=name, Key="k v2")["Body"].read() == b"two"
    wrong = s3_client(emulator, USER_OWNED, (ukey[0], "y" * 40), signature_version="s3")
    with pytest.raises(ClientError) as e:
        wrong.list_objects(Bucket=name)
    assert code(e) == (403, "SignatureDoesNotMatch")


def test_inactive_and_deleted_keys_stop_working(emulator):
    import ionoscloud

    from support import wait

    with sdk_client(emulator) as client:
        uid = user_id_of(client)
        key = cloud_key(client, uid)
        s3 = s3_client(emulator, USER_OWNED, key)
        s3.list_buckets()
        api = ionoscloud.UserS3KeysApi(client)
        _, _, h = api.um_users_s3keys_put_with_http_info(
            uid, key[0], ionoscloud.S3Key(properties=ionoscloud.S3KeyProperties(active=False))
        )
        wait(client, h)
        with pytest.raises(ClientError) as e:
            s3.list_buckets()
        assert code(e) == (403, "InvalidAccessKeyId")
        _, _, h = api.um_users_s3keys_put_with_http_info(
            uid, key[0], ionoscloud.S3Key(properties=ionoscloud.S3KeyProperties(active=True))
        )
        wait(client, h)
        s3.list_buckets()
        _, _, h = api.um_users_s3keys_delete_with_http_info(uid, key[0])
        wait(client, h)
        with pytest.raises(ClientError) as e:
            s3.list_buckets()
        assert code(e) == (403, "InvalidAccessKeyId")


def test_keys_belong_to_their_bucket_ownership(emulator, ukey):
    with pytest.raises(ClientError) as e:
        s3_client(emulator, CONTRACT_OWNED, ukey).list_buckets()
    assert code(e) == (403, "InvalidAccessKeyId")
    _, ak, sk = management_key(emulator)
    with pytest.raises(ClientError) as e:
        s3_client(emulator, USER_OWNED, (ak, sk)).list_buckets()
    assert code(e) == (403, "InvalidAccessKeyId")


def test_virtual_hosted_style_by_host(emulator, ukey, s3):
    """boto3 addressing buckets as bucket.s3.eu-central-2.ionoscloud.com, its connections sent to the emulator."""
    import boto3
    from botocore.config import Config

    name = bucket_name("vh")
    port = emulator.port
    vh = boto3.client(
        "s3",
        endpoint_url=f"http://s3.eu-central-2.ionoscloud.com:{port}",
        region_name=USER_OWNED,
        aws_access_key_id=ukey[0],
        aws_secret_access_key=ukey[1],
        config=Config(s3={"addressing_style": "virtual"}, retries={"max_attempts": 1}),
    )
    seen = []

    def to_loopback(request, **kw):
        seen.append(request.url)
        request.headers["Host"] = request.url.split("/")[2]
        request.url = request.url.replace(request.url.split("/")[2].split(":")[0], "127.0.0.1", 1)

    vh.meta.events.register("before-send.s3", to_loopback)
    vh.create_bucket(Bucket=name)
    vh.put_object(Bucket=name, Key="v/h.txt", Body=b"virtual")
    assert vh.get_object(Bucket=name, Key="v/h.txt")["Body"].read() == b"virtual"
    assert [o["Key"] for o in vh.list_objects_v2(Bucket=name)["Contents"]] == ["v/h.txt"]
    assert all(u.startswith(f"http://{name}.s3.eu-central-2.ionoscloud.com") for u in seen)
    assert s3.get_object(Bucket=name, Key="v/h.txt")["Body"].read() == b"virtual"  # the same bucket, path style


def test_endpoints_list_object_storage(emulator):
    import httpx

    eps = httpx.get(emulator.url + "/_emulator/endpoints").json()
    assert eps["objectstorage"]["eu-central-3"] == emulator.url + "/s3/eu-central-3"
    assert "objectstoragemanagement" in eps


def test_crc32_checksum_header_checked(emulator, ukey, s3):
    import base64
    import zlib

    import httpx

    name = bucket_name("crc")
    s3.create_bucket(Bucket=name)
    out = s3.put_object(Bucket=name, Key="ok", Body=b"checked", ChecksumAlgorithm="CRC32")
    assert out["ChecksumCRC32"] == base64.b64encode(zlib.crc32(b"checked").to_bytes(4, "big")).decode()
    got = s3.get_object(Bucket=name, Key="ok", ChecksumMode="ENABLED")  # botocore checks the body against it
    assert got["ChecksumCRC32"] == out["ChecksumCRC32"] and got["Body"].read() == b"checked"
    url = f"{emulator.url}/s3/{USER_OWNED}/{name}/bad"
    wrong = base64.b64encode((zlib.crc32(b"checked") ^ 1).to_bytes(4, "big")).decode()
    h = sign_v4("PUT", url, ukey, USER_OWNED, body=b"checked", headers={"x-amz-checksum-crc32": wrong})
    r = httpx.put(url, content=b"checked", headers=h)
    assert r.status_code == 400 and b"<Code>BadDigest</Code>" in r.content
