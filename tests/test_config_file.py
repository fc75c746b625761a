"""Issue 9, rule 8: the IONOS config file names every product the tools look up, with the names the Go SDK
bundle's file validation accepts, and a regional product's endpoint without a location first (the tools'
fallback when they are given no location). Checked over plain HTTP against the emulator: each entry answers."""

from __future__ import annotations

import httpx
import yaml

from ionos_emulator.apis import build_apis
from ionos_emulator.endpoints import NOT_SERVED, config_file
from support import OWNER

# sdk-go-bundle shared/fileconfiguration (knownProducts): every name its Validate accepts; any other name
# makes the newest Go SDK bundle refuse the whole file.
GO_BUNDLE_PRODUCTS = {
    "autoscaling", "apigateway", "cdn", "cert", "cloud", "containerregistry", "dns", "mongo",
    "objectstoragemanagement", "psql", "inmemorydb", "inmemorydbv2", "kafka", "logging", "mariadb", "mariadbv2",
    "monitoring", "nfs", "objectstorage", "vpn", "psqlv2",
}  # fmt: skip
# what a tool asks below some products' entries
PROBES = {"dns": "/zones", "psqlv2": "/clusters", "psql": "/clusters", "mongo": "/clusters", "cloud": "/datacenters"}


def products(emulator) -> dict[str, list[dict]]:
    text = config_file(build_apis(), emulator.url, user=OWNER[0], password=OWNER[1])
    doc = yaml.safe_load(text)
    assert doc["currentProfile"] == "emulator" and doc["profiles"][0]["environment"] == "emulator"
    return {p["name"]: p["endpoints"] for p in doc["environments"][0]["products"]}, text


def test_every_product_the_tools_look_up_is_named(emulator):
    named, text = products(emulator)
    assert set(named) <= GO_BUNDLE_PRODUCTS  # nothing the Go SDK bundle would refuse ("auth" is none of its)
    listed = set(named) | {n for n in NOT_SERVED if f"# {n}:" in text}
    assert listed == GO_BUNDLE_PRODUCTS
    # both generations of In-Memory DB and MariaDB, under the names ionosctl and Terraform look up
    assert named["inmemorydb"] and named["inmemorydbv2"] and named["mariadb"] and named["mariadbv2"]


def test_regional_products_have_an_endpoint_without_a_location_first(emulator):
    named, _ = products(emulator)
    for name, endpoints in named.items():
        assert "location" not in endpoints[0], name  # the Go bundle's GetOverride falls back to the first only
        located = [e for e in endpoints if "location" in e]
        if located:
            assert endpoints[0]["name"] in {e["name"] for e in located}, name
        assert name != "cloud" or not located  # the bundle refuses a cloud product with both kinds
    assert named["dns"][0]["name"].endswith("/dns/de-fra")


def test_every_entry_reaches_the_emulator(emulator):
    named, _ = products(emulator)
    with httpx.Client(auth=OWNER, timeout=30) as http:
        table = http.get(emulator.url + "/_emulator/endpoints").json()
        served = {url for locs in table.values() for url in locs.values()}
        for name, endpoints in named.items():
            assert {e["name"] for e in endpoints} <= served, name
            if name in PROBES:  # the entry without a location answers what a tool asks there
                assert http.get(endpoints[0]["name"] + PROBES[name]).status_code == 200, name
