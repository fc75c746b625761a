"""Objects through boto3 and the AWS CLI: content headers, Content-MD5, ETags, ranges, conditional requests,
copies, batch deletes, multipart uploads and ListObjects v1/v2."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from s3support import USER_OWNED, bucket_name, code, owner_cloud_key, s3_client

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def ukey(emulator):
    return owner_cloud_key(emulator)


@pytest.fixture(scope="module")
def s3(emulator, ukey):
    return s3_client(emulator, USER_OWNED, ukey)


@pytest.fixture
def bucket(s3):
    name = bucket_name("o")
    s3.create_bucket(Bucket=name)
    return name


def test_content_headers_md5_and_ranges(s3, bucket):
    body = b"0123456789" * 100
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    s3.put_object(
        Bucket=bucket,
        Key="h",
        Body=body,
        ContentMD5=md5,
        CacheControl="max-age=60",
        ContentDisposition="attachment",
        ContentEncoding="identity",
        ContentLanguage="de",
        StorageClass="STANDARD",
    )
    head = s3.head_object(Bucket=bucket, Key="h")
    assert head["ContentLength"] == 1000 and head["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert (head["CacheControl"], head["ContentDisposition"], head["ContentLanguage"]) == (
        "max-age=60",
        "attachment",
        "de",
    )
    part = s3.get_object(Bucket=bucket, Key="h", Range="bytes=10-19")
    assert part["Body"].read() == b"0123456789" and part["ContentRange"] == "bytes 10-19/1000"
    assert s3.get_object(Bucket=bucket, Key="h", Range="bytes=-5")["Body"].read() == b"56789"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="h", Range="bytes=5000-")
    assert code(e) == (416, "InvalidRange")
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=body, ContentMD5=wrong)
    assert code(e) == (400, "BadDigest")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=body, ContentMD5="notbase64")
    assert code(e) == (400, "InvalidDigest")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="bad")
    assert code(e)[0] == 404
    got = s3.get_object(Bucket=bucket, Key="h", ResponseContentType="text/csv", ResponseContentDisposition="inline")
    assert got["ContentType"] == "text/csv" and got["ContentDisposition"] == "inline"


def test_conditional_requests(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"cond")["ETag"]
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"cond"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"0000"')
    assert code(e) == (412, "PreconditionFailed")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert e.value.response["Error"]["Code"] == "304"
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    earlier = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=later)
    assert e.value.response["Error"]["Code"] == "304"
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=earlier)["Body"].read() == b"cond"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=earlier)
    assert code(e) == (412, "PreconditionFailed")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="c", Body=b"again", IfNoneMatch="*")
    assert code(e) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=bucket, Key="c")["Body"].read() == b"cond"


def test_copy_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"copy me", ContentType="text/plain", Metadata={"m": "1"})
    out = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert out["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"copy me").hexdigest()}"'
    dst = s3.get_object(Bucket=bucket, Key="dst")
    assert dst["Body"].read() == b"copy me" and dst["Metadata"] == {"m": "1"} and dst["ContentType"] == "text/plain"
    s3.copy_object(
        Bucket=bucket, Key="dst", CopySource=f"{bucket}/src", MetadataDirective="REPLACE", Metadata={"n": "2"}
    )
    assert s3.head_object(Bucket=bucket, Key="dst")["Metadata"] == {"n": "2"}
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="src", CopySource=f"{bucket}/src")
    assert code(e) == (400, "InvalidRequest")
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="x", CopySource=f"{bucket}/missing")
    assert code(e) == (404, "NoSuchKey")
    other = bucket_name("o2")
    s3.create_bucket(Bucket=other)
    s3.copy_object(Bucket=other, Key="far", CopySource={"Bucket": bucket, "Key": "src"})
    assert s3.get_object(Bucket=other, Key="far")["Body"].read() == b"copy me"


def test_batch_delete(s3, bucket):
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"d/{i}", Body=b"x")
    out = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": f"d/{i}"} for i in range(3)] + [{"Key": "nope"}]}
    )
    assert sorted(d["Key"] for d in out["Deleted"]) == ["d/0", "d/1", "d/2", "nope"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["d/3", "d/4"]
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d/3"}], "Quiet": True})
    assert "Deleted" not in quiet


def test_multipart_upload(s3, bucket):
    parts_data = [os.urandom(5 * MIB), os.urandom(5 * MIB), b"tail"]
    up = s3.create_multipart_upload(Bucket=bucket, Key="big", ContentType="application/x-test", Metadata={"k": "v"})
    uid = up["UploadId"]
    listed = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in listed] == [("big", uid)]
    etags = [
        s3.upload_part(Bucket=bucket, Key="big", UploadId=uid, PartNumber=n, Body=d)["ETag"]
        for n, d in enumerate(parts_data, 1)
    ]
    parts = s3.list_parts(Bucket=bucket, Key="big", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [
        (n, e, len(d)) for n, (e, d) in enumerate(zip(etags, parts_data, strict=True), 1)
    ]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="big", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"00"'}]}
        )
    assert code(e) == (400, "InvalidPart")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="big",
            UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": etags[1]}, {"PartNumber": 1, "ETag": etags[0]}]},
        )
    assert code(e) == (400, "InvalidPartOrder")
    extra = s3.upload_part(Bucket=bucket, Key="big", UploadId=uid, PartNumber=4, Body=b"unused")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="big",
            UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 3, "ETag": etags[2]}, {"PartNumber": 4, "ETag": extra}]},
        )
    assert code(e) == (400, "EntityTooSmall")  # a part other than the last is below 5 MiB
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big",
        UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]},
    )
    expected = hashlib.md5(b"".join(hashlib.md5(d).digest() for d in parts_data)).hexdigest() + "-3"
    assert done["ETag"] == f'"{expected}"'
    got = s3.get_object(Bucket=bucket, Key="big")
    assert got["Body"].read() == b"".join(parts_data) and got["Metadata"] == {"k": "v"}
    assert got["ContentType"] == "application/x-test"
    assert s3.get_object(Bucket=bucket, Key="big", PartNumber=3)["Body"].read() == b"tail"
    assert s3.get_object(Bucket=bucket, Key="big", Range=f"bytes={5 * MIB - 2}-{5 * MIB + 1}")["Body"].read() == (
        parts_data[0][-2:] + parts_data[1][:2]
    )
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="big", UploadId=uid)
    assert code(e) == (404, "NoSuchUpload")


def test_upload_part_copy_and_abort(s3, bucket):
    src = os.urandom(6 * MIB)
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]
    p1 = s3.upload_part_copy(
        Bucket=bucket, Key="assembled", UploadId=uid, PartNumber=1, CopySource=f"{bucket}/src",
        CopySourceRange=f"bytes=0-{5 * MIB - 1}",
    )["CopyPartResult"]["ETag"]  # fmt: skip
    p2 = s3.upload_part_copy(
        Bucket=bucket, Key="assembled", UploadId=uid, PartNumber=2, CopySource=f"{bucket}/src",
        CopySourceRange=f"bytes={5 * MIB}-{6 * MIB - 1}",
    )["CopyPartResult"]["ETag"]  # fmt: skip
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="assembled",
        UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1}, {"PartNumber": 2, "ETag": p2}]},
    )
    assert s3.get_object(Bucket=bucket, Key="assembled")["Body"].read() == src
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dropped")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="dropped", UploadId=uid, PartNumber=1, Body=b"x")
    s3.abort_multipart_upload(Bucket=bucket, Key="dropped", UploadId=uid)
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="dropped", UploadId=uid, PartNumber=2, Body=b"y")
    assert code(e) == (404, "NoSuchUpload")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="dropped")
    assert code(e)[0] == 404


def test_list_objects_v1_and_v2(s3, bucket):
    keys = ["a/1", "a/2", "a/b/3", "b/4", "c", "d e+f", "é/x"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    v2 = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in v2["CommonPrefixes"]] == ["a/", "b/", "é/"]
    assert [o["Key"] for o in v2["Contents"]] == ["c", "d e+f"] and v2["KeyCount"] == 5
    sub = s3.list_objects_v2(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in sub["Contents"]] == ["a/1", "a/2"] and [p["Prefix"] for p in sub["CommonPrefixes"]] == [
        "a/b/"
    ]
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 2}))
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == sorted(keys, key=lambda k: k.encode())
    assert len(pages) == 4 and pages[0]["IsTruncated"] and "NextContinuationToken" in pages[0]
    delim_pages = list(
        s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 1})
    )
    seen = [
        x
        for p in delim_pages
        for x in [o["Key"] for o in p.get("Contents", [])] + [c["Prefix"] for c in p.get("CommonPrefixes", [])]
    ]
    assert seen == ["a/", "b/", "c", "d e+f", "é/"]
    after = s3.list_objects_v2(Bucket=bucket, StartAfter="b/4")
    assert [o["Key"] for o in after["Contents"]] == ["c", "d e+f", "é/x"]
    v1_pages = list(s3.get_paginator("list_objects").paginate(Bucket=bucket, PaginationConfig={"PageSize": 3}))
    assert [o["Key"] for p in v1_pages for o in p.get("Contents", [])] == sorted(keys, key=lambda k: k.encode())
    v1 = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=2)
    assert v1["IsTruncated"] and v1["NextMarker"] == "b/"
    assert [p["Prefix"] for p in s3.list_objects(Bucket=bucket, Delimiter="/", Marker="b/")["CommonPrefixes"]] == ["é/"]
    enc = s3.list_objects_v2(Bucket=bucket, Prefix="d", EncodingType="url")
    from urllib.parse import unquote_plus

    assert [unquote_plus(o["Key"]) for o in enc["Contents"]] == ["d e+f"] and enc["Contents"][0]["Key"] != "d e+f"
    assert s3.list_objects_v2(Bucket=bucket, MaxKeys=0)["KeyCount"] == 0
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=bucket, EncodingType="base64")
    assert code(e) == (400, "InvalidArgument")


def test_aws_cli(emulator, ukey, tmp_path):
    aws = Path(sys.executable).parent / "aws"
    (tmp_path / "credentials").write_text(
        f"[default]\naws_access_key_id = {ukey[0]}\naws_secret_access_key = {ukey[1]}\n"
    )
    (tmp_path / "config").write_text(f"[default]\nregion = {USER_OWNED}\n")
    env = {
        **os.environ,
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }
    endpoint = f"{emulator.url}/s3/{USER_OWNED}"
    name = bucket_name("cli")

    def run(*args: str) -> str:
        done = subprocess.run(
            [str(aws), "--endpoint-url", endpoint, *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("s3", "mb", f"s3://{name}")
    src = tmp_path / "tree"
    (src / "sub").mkdir(parents=True)
    (src / "one.txt").write_text("one")
    (src / "sub" / "two.bin").write_bytes(os.urandom(9 * MIB))  # above the CLI's multipart threshold
    run("s3", "sync", str(src), f"s3://{name}/tree")
    listing = run("s3", "ls", "--recursive", f"s3://{name}")
    assert "tree/one.txt" in listing and "tree/sub/two.bin" in listing
    out = tmp_path / "back"
    run("s3", "cp", "--recursive", f"s3://{name}/tree", str(out))
    assert (out / "sub" / "two.bin").read_bytes() == (src / "sub" / "two.bin").read_bytes()
    head = json.loads(run("s3api", "head-object", "--bucket", name, "--key", "tree/sub/two.bin"))
    assert head["ETag"].endswith('-2"')  # two 8 MiB-threshold parts
    run("s3", "rm", "--recursive", f"s3://{name}")
    run("s3", "rb", f"s3://{name}")
    assert name not in run("s3", "ls")
