"""Who may do what: the Object Storage Management API through its SDK, contract isolation, other users,
bucket policies (anonymous and cross-user), public access blocks, ACLs, CORS preflight, static websites,
tagging, encryption, lifecycle and replication configurations."""

from __future__ import annotations

import json
import uuid

import httpx
import ionoscloud
import pytest
from botocore.exceptions import ClientError

from conftest import sdk_client
from s3support import (
    CONTRACT_OWNED,
    USER_OWNED,
    bucket_name,
    cloud_key,
    code,
    management_client,
    management_key,
    owner_cloud_key,
    s3_client,
)
from support import bearer, wait


@pytest.fixture(scope="module")
def owner(emulator):
    return s3_client(emulator, USER_OWNED, owner_cloud_key(emulator))


@pytest.fixture(scope="module")
def contract_owner(emulator):
    _, ak, sk = management_key(emulator)
    return s3_client(emulator, CONTRACT_OWNED, (ak, sk))


@pytest.fixture(scope="module")
def other_user(emulator):
    """A second user of the contract, not an administrator, with an S3 key of their own and a token."""
    email = f"s3-{uuid.uuid4().hex[:8]}@example.com"
    with sdk_client(emulator) as client:
        u, _, h = ionoscloud.UserManagementApi(client).um_users_post_with_http_info(
            ionoscloud.UserPost(
                properties=ionoscloud.UserPropertiesPost(
                    firstname="S", lastname="Three", email=email, password="Passw0rd!", administrator=False
                )
            )
        )
        wait(client, h)
        key = cloud_key(client, u.id)
    return {"id": u.id, "cred": (email, "Passw0rd!"), "key": key}


def test_management_api_access_keys_and_regions(emulator):
    import ionoscloud_object_storage_management as osm

    kid, ak, sk = management_key(emulator, description="first")
    assert len(ak) == 92 and len(sk) == 40
    with management_client(emulator) as c:
        api = osm.AccesskeysApi(c)
        got = api.accesskeys_find_by_id(kid)
        assert got.properties.description == "first" and got.metadata.status == "AVAILABLE"
        assert got.metadata.supported_regions == ["eu-central-3", "us-central-1"]
        assert got.properties.contract_user_id.startswith(f"{emulator_contract(emulator)}:")
        assert kid in [k.id for k in api.accesskeys_get().items]
        assert [k.id for k in api.accesskeys_get(filter_accesskey_id=ak).items] == [kid]
        api.accesskeys_put(kid, osm.AccessKeyEnsure(id=kid, properties=osm.AccessKey(description="renamed")))
        assert api.accesskeys_find_by_id(kid).properties.description == "renamed"
        s3 = s3_client(emulator, CONTRACT_OWNED, (ak, sk))
        s3.list_buckets()
        renewed = api.accesskeys_renew(kid)
        assert renewed.properties.access_key == ak and renewed.properties.secret_key != sk
        with pytest.raises(ClientError) as e:
            s3.list_buckets()
        assert code(e) == (403, "SignatureDoesNotMatch")
        s3_client(emulator, CONTRACT_OWNED, (ak, renewed.properties.secret_key)).list_buckets()
        api.accesskeys_delete(kid)
        with pytest.raises(ClientError) as e:
            s3_client(emulator, CONTRACT_OWNED, (ak, renewed.properties.secret_key)).list_buckets()
        assert code(e) == (403, "InvalidAccessKeyId")
        with pytest.raises(osm.ApiException) as ae:
            api.accesskeys_find_by_id(str(uuid.uuid4()))
        assert ae.value.status == 404
        regions = osm.RegionsApi(c).regions_get()
        by_id = {r.id: r.properties for r in regions.items}
        assert by_id["eu-central-3"].endpoint == "s3.eu-central-3.ionoscloud.com"
        assert by_id["de"].endpoint == "s3.eu-central-1.ionoscloud.com" and by_id["de"].location == "de/fra"
        raw = httpx.get(
            emulator.url + "/objectstoragemanagement/regions", headers={"Authorization": f"Bearer {bearer(emulator)}"}
        ).json()  # bucketOwnership: in the API's YAML (0.1.0), not in the SDK's model
        owned = {r["id"]: r["properties"]["bucketOwnership"] for r in raw["items"]}
        assert owned["eu-central-3"] == "contract-owned" and owned["de"] == "user-owned"
        assert osm.RegionsApi(c).regions_find_by_region("us-central-1").properties.location == "us/mci"


def emulator_contract(emulator) -> int:
    return httpx.get(emulator.url + "/_emulator/contracts", auth=("admin@ionos-emulator.local", "emulator")).json()[0][
        "contractNumber"
    ]


def test_contract_isolation(emulator, contract_owner):
    name = bucket_name("iso")
    contract_owner.create_bucket(Bucket=name)
    contract_owner.put_object(Bucket=name, Key="secret", Body=b"mine")
    number = 40_000_000 + uuid.uuid4().int % 1_000_000
    email = f"other-{uuid.uuid4().hex[:8]}@example.com"
    r = httpx.post(
        emulator.url + "/_emulator/contracts",
        json={"contractNumber": number, "user": email, "password": "pw-12345678"},
        auth=("admin@ionos-emulator.local", "emulator"),
    )
    assert r.status_code == 200, r.text
    _, ak, sk = management_key(emulator, cred=(email, "pw-12345678"))
    theirs = s3_client(emulator, CONTRACT_OWNED, (ak, sk))
    assert name not in [b["Name"] for b in theirs.list_buckets()["Buckets"]]
    for call in (
        lambda: theirs.get_object(Bucket=name, Key="secret"),
        lambda: theirs.list_objects_v2(Bucket=name),
        lambda: theirs.put_object(Bucket=name, Key="x", Body=b"x"),
        lambda: theirs.delete_bucket(Bucket=name),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        theirs.create_bucket(Bucket=name)
    assert code(e) == (409, "BucketAlreadyExists")
    with pytest.raises(ClientError) as e:
        contract_owner.create_bucket(Bucket=name)
    assert code(e) == (409, "BucketAlreadyOwnedByYou")
    with pytest.raises(ClientError) as e:
        theirs.get_object(Bucket=bucket_name("missing"), Key="k")
    assert code(e) == (404, "NoSuchBucket")
    # names are unique per region: the same name is free in us-central-1
    s3_client(emulator, "us-central-1", (ak, sk)).create_bucket(Bucket=name)


def test_user_owned_buckets_belong_to_their_user(emulator, owner, other_user):
    name = bucket_name("mine")
    owner.create_bucket(Bucket=name)
    owner.put_object(Bucket=name, Key="k", Body=b"owner's")
    theirs = s3_client(emulator, USER_OWNED, other_user["key"])
    assert name not in [b["Name"] for b in theirs.list_buckets()["Buckets"]]
    with pytest.raises(ClientError) as e:
        theirs.get_object(Bucket=name, Key="k")
    assert code(e) == (403, "AccessDenied")
    canonical = owner.get_bucket_acl(Bucket=name)["Owner"]["ID"]
    their_id = theirs.list_buckets()["Owner"]["ID"]
    assert canonical != their_id
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam:::user/{their_id}"]},
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{name}/*"],
            }
        ],
    }
    owner.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    assert theirs.get_object(Bucket=name, Key="k")["Body"].read() == b"owner's"
    with pytest.raises(ClientError) as e:
        theirs.put_object(Bucket=name, Key="k", Body=b"overwritten")
    assert code(e) == (403, "AccessDenied")
    assert owner.get_bucket_policy_status(Bucket=name)["PolicyStatus"]["IsPublic"] is False
    # grants by canonical id in x-amz-grant-* headers
    owner.put_object(Bucket=name, Key="granted", Body=b"g", GrantRead=f'id="{their_id}"')
    acl = owner.get_object_acl(Bucket=name, Key="granted")
    assert {(g["Grantee"].get("ID"), g["Permission"]) for g in acl["Grants"]} >= {(their_id, "READ")}


def test_contract_users_need_a_policy(emulator, contract_owner, other_user):
    name = bucket_name("cpol")
    contract_owner.create_bucket(Bucket=name)
    contract_owner.put_object(Bucket=name, Key="k", Body=b"contract's")
    _, ak, sk = management_key(emulator, cred=other_user["cred"])
    member = s3_client(emulator, CONTRACT_OWNED, (ak, sk))
    assert name in [b["Name"] for b in member.list_buckets()["Buckets"]]  # every user lists the contract's buckets
    with pytest.raises(ClientError) as e:
        member.create_bucket(Bucket=bucket_name("nope"))
    assert code(e) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        member.get_object(Bucket=name, Key="k")
    assert code(e) == (403, "AccessDenied")
    number = emulator_contract(emulator)
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam:::user/{number}:{other_user['id']}"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{name}/*",
            }
        ]
    }
    contract_owner.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    assert member.get_object(Bucket=name, Key="k")["Body"].read() == b"contract's"


def test_public_policy_acl_and_public_access_block(emulator, owner):
    name = bucket_name("pub")
    owner.create_bucket(Bucket=name)
    owner.put_object(Bucket=name, Key="open.txt", Body=b"public", ACL="public-read")
    owner.put_object(Bucket=name, Key="closed.txt", Body=b"private")
    base = f"{emulator.url}/s3/{USER_OWNED}/{name}"
    assert httpx.get(f"{base}/open.txt").content == b"public"
    r = httpx.get(f"{base}/closed.txt")
    assert r.status_code == 403 and b"<Code>AccessDenied</Code>" in r.content
    assert httpx.get(base).status_code == 403  # listing is not public
    with pytest.raises(ClientError) as e:
        owner.get_bucket_policy(Bucket=name)
    assert code(e) == (404, "NoSuchBucketPolicy")
    with pytest.raises(ClientError) as e:
        owner.put_bucket_policy(Bucket=name, Policy="{not json")
    assert code(e) == (400, "MalformedPolicy")
    policy = {
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
             "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"]},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/deny/*"},
        ]
    }  # fmt: skip
    owner.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    assert json.loads(owner.get_bucket_policy(Bucket=name)["Policy"]) == policy
    assert owner.get_bucket_policy_status(Bucket=name)["PolicyStatus"]["IsPublic"] is True
    owner.put_object(Bucket=name, Key="deny/x", Body=b"x")
    assert httpx.get(f"{base}/closed.txt").content == b"private"
    assert b"<Key>closed.txt</Key>" in httpx.get(base).content
    assert httpx.get(f"{base}/deny/x").status_code == 403
    owner.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    assert owner.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]["IgnorePublicAcls"] is True
    assert httpx.get(f"{base}/closed.txt").status_code == 403
    assert httpx.get(f"{base}/open.txt").status_code == 403
    with pytest.raises(ClientError) as e:
        owner.put_object_acl(Bucket=name, Key="closed.txt", ACL="public-read")
    assert code(e) == (403, "AccessDenied")
    owner.delete_public_access_block(Bucket=name)
    assert httpx.get(f"{base}/open.txt").content == b"public"
    owner.delete_bucket_policy(Bucket=name)
    assert httpx.get(f"{base}/closed.txt").status_code == 403
    acl = owner.get_bucket_acl(Bucket=name)
    assert [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"]
    owner.put_bucket_acl(Bucket=name, ACL="public-read")
    assert b"<Key>open.txt</Key>" in httpx.get(base).content


def test_cors_preflight(emulator, owner):
    name = bucket_name("cors")
    owner.create_bucket(Bucket=name)
    url = f"{emulator.url}/s3/{USER_OWNED}/{name}/file"
    ask = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"}
    assert httpx.options(url, headers=ask).status_code == 403
    with pytest.raises(ClientError) as e:
        owner.get_bucket_cors(Bucket=name)
    assert code(e) == (404, "NoSuchCORSConfiguration")
    owner.put_bucket_cors(
        Bucket=name,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": ["https://*.example.com"],
                    "AllowedMethods": ["GET", "PUT"],
                    "AllowedHeaders": ["content-type", "x-amz-*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 600,
                }
            ]
        },
    )
    assert owner.get_bucket_cors(Bucket=name)["CORSRules"][0]["MaxAgeSeconds"] == 600
    r = httpx.options(url, headers={**ask, "Access-Control-Request-Headers": "Content-Type, X-Amz-Date"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "PUT" in r.headers["access-control-allow-methods"] and r.headers["access-control-max-age"] == "600"
    assert httpx.options(url, headers={**ask, "Origin": "https://evil.test"}).status_code == 403
    assert httpx.options(url, headers={**ask, "Access-Control-Request-Method": "DELETE"}).status_code == 403
    assert httpx.options(url, headers={**ask, "Access-Control-Request-Headers": "authorization-x"}).status_code == 403
    assert httpx.options(url).status_code == 400
    owner.put_object(Bucket=name, Key="file", Body=b"x", ACL="public-read")
    got = httpx.get(url, headers={"Origin": "https://app.example.com"})
    assert got.headers["access-control-allow-origin"] == "https://app.example.com"
    assert got.headers["access-control-expose-headers"] == "ETag"
    owner.delete_bucket_cors(Bucket=name)
    assert httpx.options(url, headers=ask).status_code == 403


def test_static_website(emulator, owner):
    name = bucket_name("site")
    owner.create_bucket(Bucket=name)
    owner.put_bucket_website(
        Bucket=name,
        WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "404.html"}},
    )
    assert owner.get_bucket_website(Bucket=name)["IndexDocument"]["Suffix"] == "index.html"
    for key, body in (("index.html", b"<h1>home</h1>"), ("docs/index.html", b"docs"), ("404.html", b"missing!")):
        owner.put_object(Bucket=name, Key=key, Body=body, ContentType="text/html", ACL="public-read")
    owner.put_object(Bucket=name, Key="private.html", Body=b"p")
    host = f"{name}.s3-website.eu-central-2.ionoscloud.com"
    site = httpx.Client(base_url=emulator.url, headers={"Host": host})
    home = site.get("/")
    assert home.status_code == 200 and home.content == b"<h1>home</h1>" and home.headers["content-type"] == "text/html"
    assert site.get("/docs/").content == b"docs"
    r = site.get("/docs")
    assert r.status_code == 302 and r.headers["location"] == "/docs/"
    missing = site.get("/nothing.html")
    assert missing.status_code == 404 and missing.content == b"missing!"
    assert site.get("/private.html").status_code == 403
    owner.delete_bucket_website(Bucket=name)
    assert site.get("/").status_code == 404


def test_tagging_encryption_lifecycle_replication(owner, contract_owner):
    name = bucket_name("cfg")
    owner.create_bucket(Bucket=name)
    with pytest.raises(ClientError) as e:
        owner.get_bucket_tagging(Bucket=name)
    assert code(e) == (404, "NoSuchTagSet")
    owner.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "team", "Value": "storage"}]})
    assert owner.get_bucket_tagging(Bucket=name)["TagSet"] == [{"Key": "team", "Value": "storage"}]
    owner.put_object(Bucket=name, Key="t", Body=b"t", Tagging="a=1&b=2")
    assert owner.get_object(Bucket=name, Key="t")["TagCount"] == 2
    owner.put_object_tagging(Bucket=name, Key="t", Tagging={"TagSet": [{"Key": "c", "Value": "3"}]})
    assert owner.get_object_tagging(Bucket=name, Key="t")["TagSet"] == [{"Key": "c", "Value": "3"}]
    with pytest.raises(ClientError) as e:
        owner.put_object_tagging(
            Bucket=name, Key="t", Tagging={"TagSet": [{"Key": "k", "Value": "v"}, {"Key": "k", "Value": "w"}]}
        )
    assert code(e) == (400, "InvalidTag")
    owner.delete_object_tagging(Bucket=name, Key="t")
    assert owner.get_object_tagging(Bucket=name, Key="t")["TagSet"] == []
    with pytest.raises(ClientError) as e:
        owner.get_bucket_encryption(Bucket=name)
    assert code(e) == (404, "ServerSideEncryptionConfigurationNotFoundError")
    owner.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    rule = owner.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert owner.put_object(Bucket=name, Key="e", Body=b"e")["ServerSideEncryption"] == "AES256"
    assert owner.head_object(Bucket=name, Key="e")["ServerSideEncryption"] == "AES256"
    with pytest.raises(ClientError) as e:
        owner.put_object(Bucket=name, Key="kms", Body=b"k", ServerSideEncryption="aws:kms")
    assert code(e) == (400, "InvalidArgument")
    lifecycle = {
        "Rules": [{"ID": "expire", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 30}}]
    }
    owner.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration=lifecycle)
    got = owner.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    assert got == [{"ID": "expire", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 30}}]
    with pytest.raises(ClientError) as e:
        owner.put_bucket_lifecycle_configuration(
            Bucket=name,
            LifecycleConfiguration={"Rules": [{"ID": "x", "Status": "On", "Filter": {}, "Expiration": {"Days": 1}}]},
        )
    assert code(e) == (400, "MalformedXML")
    owner.delete_bucket_lifecycle(Bucket=name)
    with pytest.raises(ClientError) as e:
        owner.get_bucket_lifecycle_configuration(Bucket=name)
    assert code(e) == (404, "NoSuchLifecycleConfiguration")
    replication = {
        "Role": "",
        "Rules": [{"ID": "r", "Status": "Enabled", "Prefix": "", "Destination": {"Bucket": "arn:aws:s3:::target"}}],
    }
    with pytest.raises(ClientError) as e:
        owner.put_bucket_replication(Bucket=name, ReplicationConfiguration=replication)
    assert code(e) == (400, "InvalidRequest")  # versioning is not enabled
    owner.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    owner.put_bucket_replication(Bucket=name, ReplicationConfiguration=replication)
    assert owner.get_bucket_replication(Bucket=name)["ReplicationConfiguration"]["Rules"][0]["ID"] == "r"
    owner.delete_bucket_replication(Bucket=name)
    with pytest.raises(ClientError) as e:
        owner.get_bucket_replication(Bucket=name)
    assert code(e) == (404, "ReplicationConfigurationNotFoundError")


def test_not_implemented_answers_501(owner):
    name = bucket_name("ni")
    owner.create_bucket(Bucket=name)
    with pytest.raises(ClientError) as e:
        owner.get_bucket_logging(Bucket=name)
    assert code(e) == (501, "NotImplemented")
