"""The catalogue is the real cloud's (issue 9, rule 5): the public ids and names the official tools name,
read through the official SDKs as the tools read them."""

from __future__ import annotations

import httpx
import ionoscloud
import ionoscloud_dbaas_inmemorydb as imdb
import ionoscloud_dbaas_mariadb as mdb
import ionoscloud_dbaas_mongo as mongo
import ionoscloud_dbaas_postgres as pg

from support import OWNER, bearer, datacenter_with_lan, wait

CUBE_XS = "72e73b81-8551-4e74-b398-fc63b39994af"
GPU = "6913ed82-a143-4c15-89ac-08fb375a97c5"
MONGO_BUSINESS_XS = "6b78ea06-ee0e-4689-998c-fc9c46e781f6"
REAL_STORAGE = {"de", "eu-central-2", "eu-south-2", "eu-central-3", "eu-central-4", "us-central-1"}


def test_templates_have_the_real_ids_and_category(client):
    tpls = {t.id: t.properties for t in ionoscloud.TemplatesApi(client).templates_get(depth=1).items}
    assert {CUBE_XS, GPU} <= set(tpls)
    assert tpls[CUBE_XS].name == "Basic Cube XS" and (tpls[CUBE_XS].cores, tpls[CUBE_XS].ram) == (1, 2048)
    assert {t.category for t in tpls.values()} == {"Basic Templates"}
    assert ionoscloud.TemplatesApi(client).templates_find_by_id(GPU).properties.name == tpls[GPU].name


def test_ubuntu_iso_and_aliases_in_every_location(client):
    images = ionoscloud.ImagesApi(client).images_get(depth=1).items
    locations = [loc.id for loc in ionoscloud.LocationsApi(client).locations_get(depth=1).items]
    assert {"de/fra/2", "de/fkb"} <= set(locations)
    for loc in locations:
        here = [i.properties for i in images if i.properties.location == loc]
        iso = next(p for p in here if p.name == "ubuntu-22.04-live-server-amd64.iso")
        assert iso.image_type == "CDROM" and iso.cloud_init == "NONE" and "ubuntu:22.04_iso" in iso.image_aliases
        assert isinstance(iso.require_legacy_bios, bool)
        hdd = {a for p in here if p.image_type == "HDD" for a in p.image_aliases}
        assert {"ubuntu:latest", "ubuntu:22.04"} <= hdd, loc


def test_volume_from_an_image_alias(client):
    dcs = ionoscloud.DataCentersApi(client)
    dc, _, h = dcs.datacenters_post_with_http_info(
        ionoscloud.DatacenterPost(properties=ionoscloud.DatacenterPropertiesPost(name="alias", location="de/txl"))
    )
    wait(client, h)
    vol, _, h = ionoscloud.VolumesApi(client).datacenters_volumes_post_with_http_info(
        dc.id,
        ionoscloud.Volume(
            properties=ionoscloud.VolumeProperties(
                name="boot", type="HDD", size=10, image_alias="ubuntu:latest", image_password="Secret12345"
            )
        ),
    )
    wait(client, h)
    got = ionoscloud.VolumesApi(client).datacenters_volumes_find_by_id(dc.id, vol.id).properties
    image = ionoscloud.ImagesApi(client).images_find_by_id(got.image).properties
    assert image.location == "de/txl" and "ubuntu:latest" in image.image_aliases


def test_sub_location_readable(client, emulator):
    de = ionoscloud.LocationsApi(client).locations_find_by_region_id("de", depth=1).items
    assert next(loc for loc in de if loc.id == "de/fra/2").properties.name == "frankfurt-2"
    with httpx.Client(base_url=emulator.cloud, auth=OWNER) as h:  # the sub-location's id, its '/' encoded
        assert h.get("/locations/de/fra%2F2").json()["id"] == "de/fra/2"
    # as the SDK sends it, the '/' not encoded
    sub = ionoscloud.LocationsApi(client).locations_find_by_region_id_and_id("de", "fra/2")
    assert sub.id == "de/fra/2" and sub.properties.name == "frankfurt-2"
    with httpx.Client(base_url=emulator.cloud, auth=OWNER) as h:  # a path longer than any route is still a 404
        assert h.get("/locations/de/fra/2/x").status_code == 404


def test_earlier_k8s_patch_releases(client):
    api = ionoscloud.KubernetesApi(client)
    c, status, _ = api.k8s_post_with_http_info(
        ionoscloud.KubernetesClusterForPost(
            properties=ionoscloud.KubernetesClusterPropertiesForPost(name="patch", k8s_version="1.29.6")
        )
    )
    assert status == 202 and c.properties.k8s_version == "1.29.6"
    assert "1.29.7" in api.k8s_find_by_cluster_id(c.id).properties.available_upgrade_versions


def test_mongo_cluster_with_the_real_template(emulator):
    cfg = mongo.Configuration(host=emulator.url + "/databases/mongodb", username=OWNER[0], password=OWNER[1])
    with mongo.ApiClient(cfg) as c:
        tpls = {t.id: t.properties for t in mongo.TemplatesApi(c).templates_get().items}
        assert tpls[MONGO_BUSINESS_XS].name == "MongoDB Business XS" and tpls[MONGO_BUSINESS_XS].ram == 2048
        assert max(t.ram for t in tpls.values()) == 131072
        dc, lan = datacenter_with_lan(emulator, "de/fra", False, OWNER)
        made = mongo.ClustersApi(c).clusters_post(
            mongo.CreateClusterRequest(
                properties=mongo.CreateClusterProperties(
                    display_name="real-template",
                    mongo_db_version="6.0",
                    location="de/fra",
                    instances=1,
                    template_id=MONGO_BUSINESS_XS,
                    connections=[mongo.Connection(datacenter_id=dc, lan_id=lan, cidr_list=["192.168.9.10/24"])],
                )
            )
        )
        assert made.properties.template_id == MONGO_BUSINESS_XS


def test_postgresql_backup_locations_are_the_real_ones(emulator):
    cfg = pg.Configuration(host=f"{emulator.url}/postgresql/de-fra", token=bearer(emulator))
    with pg.ApiClient(cfg) as c:
        offered = {loc.properties.location for loc in pg.BackupLocationsApi(c).backuplocations_get().items}
    assert offered == REAL_STORAGE


def test_inmemorydb_snapshot_locations_are_the_real_ones(emulator):
    cfg = imdb.Configuration(host=f"{emulator.url}/inmemorydb/de-fra/v2", token=bearer(emulator))
    with imdb.ApiClient(cfg) as c:
        offered = {loc.id for loc in imdb.SnapshotLocationsApi(c).snapshotlocations_get().items}
    assert offered == REAL_STORAGE


def test_mariadb_backup_locations_are_the_real_ones(emulator):
    cfg = mdb.Configuration(host=f"{emulator.url}/mariadb/de-fra/v2", token=bearer(emulator))
    with mdb.ApiClient(cfg) as c:
        offered = [loc.properties.location for loc in mdb.BackupLocationsApi(c).backuplocations_get().items]
    assert set(offered) == REAL_STORAGE and offered[0] == "de"  # de, the default, first
