"""Object Storage bytes survive restarts, and a kill in the middle of uploads leaves no partial object."""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from conftest import sdk_client
from s3support import USER_OWNED, cloud_key, s3_client, sign_v4

MIB = 1024 * 1024


def _start_partial_put(url: str, key: tuple[str, str], total: int, sent: int) -> socket.socket:
    """A PUT whose headers promise `total` bytes and whose body stops after `sent`: still open."""
    h = sign_v4("PUT", url, key, USER_OWNED, headers={"Content-Length": str(total)}, payload="UNSIGNED-PAYLOAD")
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    h.setdefault("Host", parts.netloc)
    head = f"PUT {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
    sock.sendall(head.encode() + os.urandom(sent))
    return sock


def test_kill_during_uploads_leaves_no_partial_object(make_emulator, tmp_path):
    objects = tmp_path / "shared-objects"  # --object-dir: the bytes outside the data dir
    emu = make_emulator("s3kill", args=("--object-dir", str(objects)))
    with sdk_client(emu) as client:
        key = cloud_key(client)
    s3 = s3_client(emu, USER_OWNED, key)
    s3.create_bucket(Bucket="durable")
    kept = os.urandom(3 * MIB)
    s3.put_object(Bucket="durable", Key="kept", Body=kept)
    uid = s3.create_multipart_upload(Bucket="durable", Key="multi")["UploadId"]
    part1 = os.urandom(5 * MIB)
    etag1 = s3.upload_part(Bucket="durable", Key="multi", UploadId=uid, PartNumber=1, Body=part1)["ETag"]
    base = f"{emu.url}/s3/{USER_OWNED}/durable"
    socks = [
        _start_partial_put(f"{base}/multi?partNumber=2&uploadId={uid}", key, 40 * MIB, 12 * MIB),
        _start_partial_put(f"{base}/half", key, 40 * MIB, 12 * MIB),
    ]
    import time

    time.sleep(0.5)  # the emulator is writing both bodies to its temporary files
    emu.kill()
    for s in socks:
        s.close()
    assert not (emu.data_dir / "objects").exists()
    temp = list((objects / "tmp").iterdir())
    assert len(temp) == 2 and all(f.stat().st_size > 0 for f in temp)  # both were being written when killed
    emu.start()
    s3 = s3_client(emu, USER_OWNED, key)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="durable")["Contents"]] == ["kept"]
    got = s3.get_object(Bucket="durable", Key="kept")
    assert got["Body"].read() == kept and got["ETag"] == f'"{hashlib.md5(kept).hexdigest()}"'
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket="durable", Key="half")
    assert e.value.response["Error"]["Code"] == "404"
    parts = s3.list_parts(Bucket="durable", Key="multi", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["ETag"]) for p in parts] == [(1, etag1)]  # the interrupted part 2 is not there
    s3.complete_multipart_upload(
        Bucket="durable", Key="multi", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag1}]}
    )
    assert s3.get_object(Bucket="durable", Key="multi")["Body"].read() == part1
    # the space of deleted objects is freed: only the two live objects' files remain
    s3.delete_object(Bucket="durable", Key="kept")
    time.sleep(0.3)
    files = [f for d in objects.iterdir() if d.name != "tmp" for f in d.iterdir()]
    assert len(files) == 1 and files[0].stat().st_size == 5 * MIB


def test_s3_over_tls_with_the_real_host_names(make_emulator, monkeypatch):
    """boto3 at https://s3.eu-central-3.ionoscloud.com, virtual-hosted buckets, trusting the emulator's CA; the
    names resolve to the emulator (as `ionos-emulator hosts` or its DNS server would make them)."""
    import boto3
    import httpx
    from botocore.config import Config

    from s3support import CONTRACT_OWNED, management_key
    from support import free_port, udp_and_tcp_port

    https_port, dns_port = free_port(), udp_and_tcp_port()
    emu = make_emulator("s3tls", args=("--tls", "--https-port", str(https_port), "--dns-port", str(dns_port)))
    ca = str(emu.data_dir / "tls" / "ca.pem")
    _, ak, sk = management_key(emu)
    real = socket.getaddrinfo

    def resolve(host, *args, **kw):
        if isinstance(host, str) and host.endswith(".ionoscloud.com"):
            host = "127.0.0.1"
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    s3 = boto3.client(
        "s3",
        endpoint_url=f"https://s3.eu-central-3.ionoscloud.com:{https_port}",
        region_name=CONTRACT_OWNED,
        aws_access_key_id=ak,
        aws_secret_access_key=sk,
        verify=ca,
        config=Config(s3={"addressing_style": "virtual"}, retries={"max_attempts": 1}),
    )
    seen = []
    s3.meta.events.register("before-send.s3", lambda request, **kw: seen.append(request.url))
    s3.create_bucket(Bucket="tls-bucket")
    s3.put_object(Bucket="tls-bucket", Key="secure.txt", Body=b"over tls")
    assert s3.get_object(Bucket="tls-bucket", Key="secure.txt")["Body"].read() == b"over tls"
    assert seen[-1].startswith(f"https://tls-bucket.s3.eu-central-3.ionoscloud.com:{https_port}/")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "tls-bucket", "Key": "secure.txt"})
    assert httpx.get(url, verify=ssl.create_default_context(cafile=ca)).content == b"over tls"
    # the emulator's DNS server answers the bucket's virtual host with its address
    import dns.message
    import dns.query

    answer = dns.query.udp(
        dns.message.make_query("tls-bucket.s3.eu-central-3.ionoscloud.com", "A"), "127.0.0.1", port=dns_port, timeout=3
    )
    assert [r.address for rrset in answer.answer for r in rrset] == ["127.0.0.1"]
