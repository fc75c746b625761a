"""End-to-end: labels on data centers, servers, volumes, IP blocks, snapshots and images, and the
contract-wide /labels view, through the unmodified `ionoscloud` SDK against a strict emulator.
Label calls are synchronous: no request, no Location."""

from __future__ import annotations

import ionoscloud
import pytest
from ionoscloud.rest import ApiException

from support import wait


def label(key, value):
    return ionoscloud.LabelResource(properties=ionoscloud.LabelResourceProperties(key=key, value=value))


def status_of(call, *args, **kw) -> int:
    with pytest.raises(ApiException) as e:
        call(*args, **kw)
    return e.value.status


@pytest.fixture
def resources(client):
    """One of each labelled kind: {type: (LabelsApi method prefix, leading path arguments, resource id)}."""
    dc, _, h = ionoscloud.DataCentersApi(client).datacenters_post_with_http_info(
        datacenter=ionoscloud.DatacenterPost(
            properties=ionoscloud.DatacenterPropertiesPost(name="labels", location="de/fra")
        )
    )
    wait(client, h)
    server, _, h = ionoscloud.ServersApi(client).datacenters_servers_post_with_http_info(
        dc.id, ionoscloud.Server(properties=ionoscloud.ServerProperties(name="vm", cores=1, ram=1024))
    )
    wait(client, h)
    volumes = ionoscloud.VolumesApi(client)
    vol, _, h = volumes.datacenters_volumes_post_with_http_info(
        dc.id,
        ionoscloud.Volume(
            properties=ionoscloud.VolumeProperties(name="data", size=5, type="HDD", licence_type="LINUX")
        ),
    )
    wait(client, h)
    snap, _, h = volumes.datacenters_volumes_create_snapshot_post_with_http_info(
        dc.id, vol.id, snapshot=ionoscloud.CreateSnapshot(properties=ionoscloud.CreateSnapshotProperties(name="s"))
    )
    wait(client, h)
    block, _, h = ionoscloud.IPBlocksApi(client).ipblocks_post_with_http_info(
        ionoscloud.IpBlock(properties=ionoscloud.IpBlockProperties(location="de/fra", size=1, name="ips"))
    )
    wait(client, h)
    return {
        "datacenter": ("datacenters_labels", (dc.id,), dc.id),
        "server": ("datacenters_servers_labels", (dc.id, server.id), server.id),
        "volume": ("datacenters_volumes_labels", (dc.id, vol.id), vol.id),
        "ipblock": ("ipblocks_labels", (block.id,), block.id),
        "snapshot": ("snapshots_labels", (snap.id,), snap.id),
    }


def test_label_crud_on_every_kind(client, resources):
    api = ionoscloud.LabelsApi(client)
    for rtype, (prefix, args, rid) in resources.items():

        def call(verb, *more, prefix=prefix, args=args, **kw):
            return getattr(api, f"{prefix}_{verb}")(*args, *more, **kw)

        created, status, headers = call("post_with_http_info", label("env", "prod"))
        assert status == 201 and "Location" not in headers, rtype
        assert created.type == "label" and created.id == "env"
        assert (created.properties.key, created.properties.value) == ("env", "prod")
        assert created.href.endswith(f"/{rid}/labels/env") and created.metadata.created_by
        call("post", label("team", "core"))
        listed = call("get", depth=1)
        assert sorted((x.properties.key, x.properties.value) for x in listed.items) == [
            ("env", "prod"),
            ("team", "core"),
        ]
        assert listed.id == f"{rid}/labels" and listed.offset == 0  # LabelResources pages
        # a key is unique per resource: a second POST is refused and changes nothing
        assert status_of(call, "post", label("env", "dev")) == 422
        assert call("find_by_key", "env").properties.value == "prod"
        # PUT changes the value of an existing key, synchronously
        put, status, headers = call("put_with_http_info", "env", label("env", "staging"))
        assert status == 200 and "Location" not in headers and put.properties.value == "staging"
        assert call("find_by_key", "env").properties.value == "staging"
        assert status_of(call, "put", "nope", label("nope", "x")) == 404
        assert status_of(call, "put", "env", label("other", "x")) == 422  # the key cannot be renamed
        _, status, headers = call("delete_with_http_info", "env")
        assert status == 200 and "Location" not in headers
        assert status_of(call, "find_by_key", "env") == 404
        assert [x.id for x in call("get").items] == ["team"]


def test_key_and_value_are_required(client, resources):
    api = ionoscloud.LabelsApi(client)
    dc_id = resources["datacenter"][2]
    empty = ionoscloud.LabelResource(properties=ionoscloud.LabelResourceProperties())
    for body in (label("", "v"), label("k", None), empty):
        assert status_of(api.datacenters_labels_post, dc_id, body) == 422
    assert api.datacenters_labels_get(dc_id).items == []
    assert status_of(api.datacenters_labels_get, "00000000-0000-0000-0000-000000000000") == 404


def test_global_view_by_urn(client, resources):
    api = ionoscloud.LabelsApi(client)
    for rtype, (prefix, args, _) in resources.items():
        getattr(api, f"{prefix}_post")(*args, label("owner", f"{rtype}-team"))
    everything = api.labels_get(depth=1)
    assert everything.id == "labels" and everything.type == "collection"
    mine = {
        x.properties.resource_id: x
        for x in everything.items
        if x.properties.resource_id in {rid for _, _, rid in resources.values()}
    }
    assert len(mine) == len(resources)
    for rtype, (_, _, rid) in resources.items():
        item = mine[rid]
        assert item.type == "label" and item.id == f"urn:label:{rtype}:{rid}:owner"
        assert item.properties.resource_type == rtype and item.properties.value == f"{rtype}-team"
        assert item.properties.resource_href.startswith("http://127.0.0.1:")
        assert item.properties.resource_href.endswith(rid)
        got = api.labels_find_by_urn(item.id)
        assert (got.id, got.properties.key, got.properties.resource_id) == (item.id, "owner", rid)
    dc_id = resources["datacenter"][2]
    for urn in (
        f"urn:label:datacenter:{dc_id}:missing",
        f"urn:label:volume:{dc_id}:owner",
        "not-a-urn",
        f"urn:label:planet:{dc_id}:owner",
    ):
        assert status_of(api.labels_find_by_urn, urn) == 404


def test_labels_go_with_their_resource(client, resources):
    api = ionoscloud.LabelsApi(client)
    for prefix, args, _ in resources.values():
        getattr(api, f"{prefix}_post")(*args, label("keep", "me"))
    dc_id, server_id = resources["server"][1]
    _, _, h = ionoscloud.ServersApi(client).datacenters_servers_delete_with_http_info(dc_id, server_id)
    wait(client, h)
    assert status_of(api.labels_find_by_urn, f"urn:label:server:{server_id}:keep") == 404
    assert api.labels_find_by_urn(f"urn:label:volume:{resources['volume'][2]}:keep").properties.value == "me"
    # deleting the data center takes the labels of everything inside it; the others stay
    _, _, h = ionoscloud.DataCentersApi(client).datacenters_delete_with_http_info(dc_id)
    wait(client, h)
    left = {x.properties.resource_id for x in api.labels_get(depth=1).items}
    assert not left & {dc_id, server_id, resources["volume"][2]}
    assert {resources["ipblock"][2], resources["snapshot"][2]} <= left


def test_public_images_show_no_labels_and_take_none(client):
    api = ionoscloud.LabelsApi(client)
    image = next(i for i in ionoscloud.ImagesApi(client).images_get(depth=1).items if i.properties.public)
    listed = api.images_labels_get(image.id)
    assert listed.items == [] and listed.id == f"{image.id}/labels"
    assert status_of(api.images_labels_post, image.id, label("mine", "no")) == 422
    assert status_of(api.images_labels_find_by_key, image.id, "mine") == 404
    assert status_of(api.images_labels_get, "00000000-0000-0000-0000-000000000000") == 404
