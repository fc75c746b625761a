"""Issue 9, rules 1 and 3, over plain HTTP the way Terraform and Ansible send it: numbers and booleans as
strings, enums in lower case (taken and rendered canonically; a string that is no number is still a 422),
PUTs that leave properties out (kept), and a NIC whose client chose its MAC address."""

from __future__ import annotations

import httpx
import pytest

import test_e2e_netservices
from ionos_emulator import spec
from support import OWNER, wait
from test_e2e_netservices import new_dc, new_lan

reserve = test_e2e_netservices.reserve  # the IP block fixture of the network services tests


@pytest.fixture
def send(emulator, client):
    """send(method, path, body) -> the reply body, once the change it started is done; 202 expected."""

    def go(method: str, path: str, body: dict, status: int = 202) -> dict:
        r = httpx.request(method, f"{emulator.cloud}/{path}", json=body, auth=OWNER)
        assert r.status_code == status, r.text
        if status == 202:
            wait(client, r.headers)
        return r.json()

    return go


@pytest.fixture
def get(emulator):
    return lambda path: httpx.get(f"{emulator.cloud}/{path}", auth=OWNER).json()


def test_nic_numbers_booleans_enums_as_strings_and_a_chosen_mac(client, send, get):
    dc = new_dc(client, "lenient")
    srv = send("POST", f"datacenters/{dc.id}/servers", {"properties": {"name": "s", "cores": "1", "ram": "1024"}})
    assert (srv["properties"]["cores"], srv["properties"]["ram"]) == (1, 1024)
    path = f"datacenters/{dc.id}/servers/{srv['id']}/nics"
    nic = send(
        "POST",
        path,
        {
            "properties": {
                "name": "eth0",
                "lan": "1",
                "dhcp": "false",
                "firewallActive": "TRUE",
                "firewallType": "ingress",
                "mac": "02:01:AA:BB:CC:DD",
            }
        },
    )
    got = get(f"{path}/{nic['id']}")["properties"]
    assert (got["lan"], got["dhcp"], got["firewallActive"], got["firewallType"]) == (1, False, True, "INGRESS")
    assert got["mac"] == "02:01:aa:bb:cc:dd"  # read-only in the spec, chosen by the client in the real API

    # rule 3: a PUT without name keeps the name (and what else it leaves out); only what it sends changes
    send("PUT", f"{path}/{nic['id']}", {"properties": {"lan": "1", "dhcp": "true"}})
    got = get(f"{path}/{nic['id']}")["properties"]
    assert (got["name"], got["dhcp"], got["firewallActive"], got["mac"]) == ("eth0", True, True, "02:01:aa:bb:cc:dd")
    # the MAC address is chosen on create only
    r = httpx.patch(f"{client.configuration.host}/{path}/{nic['id']}", json={"mac": "02:01:00:00:00:01"}, auth=OWNER)
    assert r.status_code == 422 and "mac" in r.text

    # strings that are no numbers, booleans or enum values are still refused, naming the attribute
    for bad in ({"lan": "one"}, {"lan": "1.5"}, {"lan": 1, "dhcp": "yes"}, {"lan": 1, "firewallType": "inbound"}):
        r = httpx.post(f"{client.configuration.host}/{path}", json={"properties": bad}, auth=OWNER)
        assert r.status_code == 422, (bad, r.text)
        assert "properties." in r.json()["messages"][0]["message"]
    r = httpx.post(f"{client.configuration.host}/{path}", json={"properties": {"lan": 1, "mac": "nope"}}, auth=OWNER)
    assert r.status_code == 422 and "mac" in r.text


def test_volume_licence_type_in_lower_case_and_size_as_a_string(client, send, get):
    dc = new_dc(client, "lenient-vol")
    body = {"properties": {"name": "v", "size": "10", "type": "hdd", "licenceType": "unknown"}}
    vol = send("POST", f"datacenters/{dc.id}/volumes", body)
    got = get(f"datacenters/{dc.id}/volumes/{vol['id']}")["properties"]
    assert (got["size"], got["type"], got["licenceType"]) == (10, "HDD", "UNKNOWN")


def test_load_balancers_with_string_lans_ports_and_weights(client, send, get, reserve):
    dc = new_dc(client)  # named as the reserve fixture deletes it
    listener, target = new_lan(client, dc.id, public=True), new_lan(client, dc.id)
    ip, alb_ip = reserve(2)
    nlb = send(
        "POST",
        f"datacenters/{dc.id}/networkloadbalancers",
        {"properties": {"name": "nlb", "listenerLan": listener.id, "targetLan": target.id, "ips": [ip]}},
    )
    assert (nlb["properties"]["listenerLan"], nlb["properties"]["targetLan"]) == (int(listener.id), int(target.id))
    rule = send(
        "POST",
        f"datacenters/{dc.id}/networkloadbalancers/{nlb['id']}/forwardingrules",
        {
            "properties": {
                "name": "fr",
                "algorithm": "round_robin",
                "protocol": "tcp",
                "listenerIp": ip,
                "listenerPort": "80",
                "targets": [{"ip": "10.9.9.10", "port": "8080", "weight": "1"}],
            }
        },
    )
    got = get(f"datacenters/{dc.id}/networkloadbalancers/{nlb['id']}/forwardingrules/{rule['id']}")["properties"]
    assert (got["algorithm"], got["protocol"], got["listenerPort"]) == ("ROUND_ROBIN", "TCP", 80)
    assert (got["targets"][0]["port"], got["targets"][0]["weight"]) == (8080, 1)

    alb = send(
        "POST",
        f"datacenters/{dc.id}/applicationloadbalancers",
        {"properties": {"name": "alb", "listenerLan": listener.id, "targetLan": target.id, "ips": [alb_ip]}},
    )
    rule = send(
        "POST",
        f"datacenters/{dc.id}/applicationloadbalancers/{alb['id']}/forwardingrules",
        {
            "properties": {
                "name": "web",
                "protocol": "http",
                "listenerIp": alb_ip,
                "listenerPort": "8080",
                "httpRules": [
                    {
                        "name": "ok",
                        "type": "static",
                        "responseMessage": "fine",
                        "statusCode": "200",
                        "dropQuery": "false",
                    }
                ],
            }
        },
    )
    got = get(f"datacenters/{dc.id}/applicationloadbalancers/{alb['id']}/forwardingrules/{rule['id']}")["properties"]
    assert (got["protocol"], got["listenerPort"]) == ("HTTP", 8080)
    (http_rule,) = got["httpRules"]
    assert (http_rule["type"], http_rule["statusCode"]) == ("STATIC", 200)


def test_nat_gateway_lans_with_string_ids(client, send, get, reserve):
    dc = new_dc(client)
    lan = new_lan(client, dc.id)
    (ip,) = reserve(1)
    gw = send(
        "POST",
        f"datacenters/{dc.id}/natgateways",
        {"properties": {"name": "nat", "publicIps": [ip], "lans": [{"id": lan.id}]}},
    )
    got = get(f"datacenters/{dc.id}/natgateways/{gw['id']}")["properties"]
    assert [entry["id"] for entry in got["lans"]] == [int(lan.id)]


def test_backup_unit_put_without_name_keeps_it(client, send, get):
    unit = send(
        "POST",
        "backupunits",
        {"properties": {"name": "lenientunit", "password": "secret-1234", "email": "a@example.com"}},
    )
    # Terraform's backup unit update sends the e-mail (and a new password) only
    send("PUT", f"backupunits/{unit['id']}", {"properties": {"email": "b@example.com"}})
    got = get(f"backupunits/{unit['id']}")["properties"]
    assert (got["name"], got["email"]) == ("lenientunit", "b@example.com")


def test_every_api_takes_strings_leniently():
    """The rule is the validator's, for every API: a Cloud DNS record with its numbers, boolean and type as
    strings is taken in canonical form; a string that is no number is still refused, naming the attribute."""
    dns = spec.load("dns")
    op = dns.operation("zonesRecordsPost")
    sent = {"properties": {"name": "www", "type": "a", "content": "192.0.2.1", "ttl": "3600", "enabled": "true"}}
    body = dns.coerce_body(op, sent)
    assert body["properties"] == {"name": "www", "type": "A", "content": "192.0.2.1", "ttl": 3600, "enabled": True}
    assert dns.body_errors(op, body) == []
    bad = dns.coerce_body(op, {"properties": {"name": "www", "type": "A", "content": "192.0.2.1", "ttl": "often"}})
    assert [path for path, _ in dns.body_errors(op, bad)] == ["properties.ttl"]


def test_query_enums_and_booleans_in_any_case(emulator):
    """Query parameters too (rule 1): an enum in lower case filters as its canonical spelling, a boolean in any
    case counts, a value that is no member of the enum is a 422 (before, a $ref'd enum was not checked)."""
    from support import bearer

    dns = {"Authorization": f"Bearer {bearer(emulator)}"}
    base = emulator.url + "/dns/de-fra/zones"
    zone = httpx.post(base, headers=dns, json={"properties": {"zoneName": "lenient-query.example"}})
    assert zone.status_code == 202, zone.text
    names = lambda q: [z["properties"]["zoneName"] for z in httpx.get(base, headers=dns, params=q).json()["items"]]
    assert "lenient-query.example" in names({"filter.state": "available"})
    assert "lenient-query.example" in names({"filter.state": "AVAILABLE"})
    assert "lenient-query.example" not in names({"filter.state": "failed"})
    bad = httpx.get(base, headers=dns, params={"filter.state": "sideways"})
    assert bad.status_code == 422 and "filter.state" in bad.text
    r = httpx.get(f"{emulator.cloud}/datacenters", params={"pretty": "FALSE", "depth": "1"}, auth=OWNER)
    assert r.status_code == 200 and "\n" not in r.text  # pretty=FALSE is false: compact JSON
    httpx.delete(f"{base}/{zone.json()['id']}", headers=dns)
