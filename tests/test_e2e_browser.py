"""The web console in real Chromium (Debian's /usr/bin/chromium, driven by Playwright): sign in, see a data
center created through the SDK drawn with its server, LAN and the internet, open a resource, watch the
journal, save a snapshot, reset, load it again; and the page at phone width. Each step's screenshot goes
to build/screenshots/; the assertions are on the page's content."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import ionoscloud
import pytest

from ionos_emulator.testing import running

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover
    sync_playwright = None

if sync_playwright is None or not os.path.exists(CHROMIUM):
    # CI installs Debian's chromium (.ci/run); elsewhere a missing browser skips these tests, saying why
    reason = "playwright or Debian's chromium is missing (apt-get install chromium)"
    pytestmark = pytest.mark.skipif(not os.environ.get("CI"), reason=reason)


@pytest.fixture(scope="module")
def world():
    with running(strict=True) as emu:
        with ionoscloud.ApiClient(emu.configuration()) as c:
            dc = ionoscloud.DataCentersApi(c).datacenters_post(
                datacenter=ionoscloud.DatacenterPost(
                    properties=ionoscloud.DatacenterPropertiesPost(name="shop", location="de/fra"),
                    entities=ionoscloud.DataCenterEntities(
                        lans=ionoscloud.Lans(
                            items=[ionoscloud.Lan(properties=ionoscloud.LanProperties(name="front", public=True))]
                        )
                    ),
                )
            )
            server = ionoscloud.ServersApi(c).datacenters_servers_post(
                dc.id,
                ionoscloud.Server(
                    properties=ionoscloud.ServerProperties(name="web", cores=2, ram=2048),
                    entities=ionoscloud.ServerEntities(
                        nics=ionoscloud.Nics(
                            items=[ionoscloud.Nic(properties=ionoscloud.NicProperties(name="eth0", lan=1))]
                        ),
                        volumes=ionoscloud.AttachedVolumes(
                            items=[
                                ionoscloud.Volume(
                                    properties=ionoscloud.VolumeProperties(
                                        name="disk", size=20, type="SSD", licence_type="LINUX"
                                    )
                                )
                            ]
                        ),
                    ),
                ),
            )
        yield emu, dc.id, server.id


@pytest.fixture(scope="module")
def browser():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


def test_console_in_chromium(world, browser):
    emu, dc_id, server_id = world
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.on("dialog", lambda d: d.accept())
    page.goto(emu.url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.screenshot(path=SHOTS / "01-sign-in.png")

    page.fill("input[name=password]", "wrong")
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#signin-error")).to_contain_text("401")
    page.fill("input[name=password]", emu.password)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#who")).to_contain_text("contract 31000001")

    drawing = page.locator("#dc-drawing svg")
    expect(drawing.locator("text", has_text="web")).to_be_visible()
    expect(drawing.locator("text", has_text="LAN 1 front (public)")).to_be_visible()
    expect(drawing.locator("text", has_text="Internet")).to_be_visible()
    expect(drawing.locator("text", has_text="disk 20 GB")).to_be_visible()
    assert drawing.locator(f'line[data-from="{server_id}"][data-lan="1"]').count() == 1  # its NIC, wired to LAN 1
    page.screenshot(path=SHOTS / "02-datacenter.png")
    drawing.locator(f'g[data-id="{server_id}"]').click()
    expect(page.locator("#dc-detail")).to_contain_text(server_id)

    page.click("nav button[data-tab=resources]")
    page.select_option("#api-select", label="cloud")
    page.select_option("#coll-select", "/datacenters")
    expect(page.locator("#res-list li", has_text="shop")).to_be_visible()
    page.locator("#res-list li", has_text="shop").click()
    expect(page.locator("#res-detail")).to_contain_text(dc_id)
    page.fill("#res-search", "no-such-thing")
    expect(page.locator("#res-list li")).to_have_count(0)
    page.screenshot(path=SHOTS / "03-resource.png")

    page.click("nav button[data-tab=journal]")
    expect(page.locator("#journal-table tbody tr", has_text="/cloudapi/v6/datacenters").first).to_be_visible()
    page.screenshot(path=SHOTS / "04-journal.png")

    page.click("nav button[data-tab=controls]")
    page.fill("#snapshot-form input[name=name]", "browser")
    page.click("#snapshot-form button[type=submit]")
    expect(page.locator("#snapshot-list li", has_text="browser")).to_be_visible()
    page.click("#reset")
    expect(page.locator("#controls-status")).to_have_text("the emulator was reset")
    page.click("nav button[data-tab=datacenters]")
    expect(page.locator("#dc-drawing")).to_have_text("No data centers yet.")
    page.screenshot(path=SHOTS / "05-after-reset.png")

    page.click("nav button[data-tab=controls]")
    page.locator('button[data-snapshot="browser"]').click()
    expect(page.locator("#controls-status")).to_have_text("loaded snapshot browser")
    page.click("nav button[data-tab=datacenters]")
    expect(page.locator("#dc-drawing svg text", has_text="web")).to_be_visible()
    page.screenshot(path=SHOTS / "06-snapshot-loaded.png")

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    expect(page.locator("nav button[data-tab=journal]")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=SHOTS / "07-phone.png", full_page=True)
    page.close()


def test_console_is_served_without_credentials_and_only_on_our_own_host(world):
    import httpx

    emu = world[0]
    page = httpx.get(emu.url + "/_emulator/console")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"] and "ionos-emulator" in page.text
    assert httpx.get(emu.url + "/_emulator/ui/console.js").headers["content-type"].startswith("text/javascript")
    assert httpx.get(emu.url + "/_emulator/ui/../settings.py").status_code in (401, 404)
    # on a real API host name the root is that API's, not the console
    assert "<html" not in httpx.get(emu.url + "/", headers={"Host": "dns.de-fra.ionos.com"}).text
