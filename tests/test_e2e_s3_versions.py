"""Versioning and object lock on contract-owned buckets, with a key from the Object Storage Management API."""

from __future__ import annotations

import datetime

import pytest
from botocore.exceptions import ClientError

from s3support import CONTRACT_OWNED, bucket_name, code, management_key, s3_client


@pytest.fixture(scope="module")
def s3(emulator):
    _, ak, sk = management_key(emulator)
    return s3_client(emulator, CONTRACT_OWNED, (ak, sk))


def test_versioning(s3):
    name = bucket_name("ver")
    s3.create_bucket(Bucket=name)
    assert "Status" not in s3.get_bucket_versioning(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"before")  # the null version
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    v1 = s3.put_object(Bucket=name, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=name, Key="k", Body=b"two")["VersionId"]
    assert v1 != v2 and "null" not in (v1, v2)
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"two"
    assert s3.get_object(Bucket=name, Key="k", VersionId=v1)["Body"].read() == b"one"
    assert s3.get_object(Bucket=name, Key="k", VersionId="null")["Body"].read() == b"before"
    gone = s3.delete_object(Bucket=name, Key="k")
    assert gone["DeleteMarker"] is True
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=name, Key="k")
    assert code(e) == (404, "NoSuchKey")
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    assert "Contents" not in s3.list_objects_v2(Bucket=name)
    listed = s3.list_object_versions(Bucket=name)
    assert [(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [(v2, False), (v1, False), ("null", False)]
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [(gone["VersionId"], True)]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=name, Key="k", VersionId=gone["VersionId"])
    assert code(e) == (405, "MethodNotAllowed")
    s3.delete_object(Bucket=name, Key="k", VersionId=gone["VersionId"])  # undelete
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"two"
    s3.delete_object(Bucket=name, Key="k", VersionId=v2)
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"one"
    page = s3.list_object_versions(Bucket=name, MaxKeys=1)
    assert page["IsTruncated"] and page["NextKeyMarker"] == "k" and page["NextVersionIdMarker"] == v1
    rest = s3.list_object_versions(Bucket=name, KeyMarker="k", VersionIdMarker=v1)
    assert [v["VersionId"] for v in rest["Versions"]] == ["null"]
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    assert s3.put_object(Bucket=name, Key="k", Body=b"suspended").get("VersionId") == "null"
    versions = s3.list_object_versions(Bucket=name)["Versions"]
    assert [v["VersionId"] for v in versions] == ["null", v1]  # the null version replaced
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert code(e) == (409, "BucketNotEmpty")
    for v in versions:
        s3.delete_object(Bucket=name, Key="k", VersionId=v["VersionId"])
    s3.delete_bucket(Bucket=name)


def test_object_lock(s3):
    name = bucket_name("lock")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    assert code(e) == (409, "InvalidBucketState")
    s3.put_object_lock_configuration(
        Bucket=name,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    )
    cfg = s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]
    assert cfg["Rule"]["DefaultRetention"] == {"Mode": "GOVERNANCE", "Days": 1}
    gov = s3.put_object(Bucket=name, Key="gov", Body=b"g")["VersionId"]
    assert s3.get_object_retention(Bucket=name, Key="gov")["Retention"]["Mode"] == "GOVERNANCE"
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=name, Key="gov", VersionId=gov)
    assert code(e) == (403, "AccessDenied")
    s3.delete_object(Bucket=name, Key="gov", VersionId=gov, BypassGovernanceRetention=True)
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)
    comp = s3.put_object(
        Bucket=name, Key="comp", Body=b"c", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until
    )["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=name, Key="comp", VersionId=comp, BypassGovernanceRetention=True)
    assert code(e) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:  # a COMPLIANCE retention is never shortened
        s3.put_object_retention(
            Bucket=name,
            Key="comp",
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until - datetime.timedelta(days=1)},
        )
    assert code(e) == (403, "AccessDenied")
    marker = s3.delete_object(Bucket=name, Key="comp")  # a delete marker is allowed: the version stays
    assert marker["DeleteMarker"] is True
    assert s3.get_object(Bucket=name, Key="comp", VersionId=comp)["Body"].read() == b"c"
    held = s3.put_object(Bucket=name, Key="held", Body=b"h", ObjectLockLegalHoldStatus="ON")["VersionId"]
    assert s3.get_object_legal_hold(Bucket=name, Key="held")["LegalHold"]["Status"] == "ON"
    s3.put_object_retention(
        Bucket=name,
        Key="held",
        Retention={
            "Mode": "GOVERNANCE",
            "RetainUntilDate": datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5),
        },
        BypassGovernanceRetention=True,
    )
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=name, Key="held", VersionId=held, BypassGovernanceRetention=True)
    assert code(e) == (403, "AccessDenied")
    s3.put_object_legal_hold(Bucket=name, Key="held", LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=name, Key="held", VersionId=held, BypassGovernanceRetention=True)
    plain = bucket_name("nolock")
    s3.create_bucket(Bucket=plain)
    with pytest.raises(ClientError) as e:
        s3.get_object_lock_configuration(Bucket=plain)
    assert code(e) == (404, "ObjectLockConfigurationNotFoundError")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=plain, Key="x", Body=b"x", ObjectLockLegalHoldStatus="ON")
    assert code(e) == (400, "InvalidRequest")
