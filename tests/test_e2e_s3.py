"""IONOS Object Storage through boto3 with keys from the Cloud API and the management API: endpoints, SigV4,
buckets and objects."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import sdk_client
from s3support import CONTRACT_OWNED, USER_OWNED, bucket_name, cloud_key, management_key, s3_client


@pytest.fixture(scope="module")
def ukey(emulator):
    with sdk_client(emulator) as client:
        return cloud_key(client)


@pytest.fixture(scope="module")
def s3(emulator, ukey):
    return s3_client(emulator, USER_OWNED, ukey)


def code(e: pytest.ExceptionInfo) -> tuple[int, str]:
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"], e.value.response["Error"]["Code"]


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
