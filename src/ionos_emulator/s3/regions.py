"""The IONOS Object Storage regions: their S3 endpoints (the real host names), where they are served on the
emulator (a path prefix), and who owns their buckets (a user, or the contract). One table, read by the S3 data
plane, the Object Storage Management API's /regions and /_emulator/endpoints."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    id: str  # the region name: LocationConstraint, the SigV4 scope's region, /regions/{region}
    hosts: tuple[str, ...]  # its S3 endpoints, the first the one /regions names
    prefix: str  # where the emulator serves it besides its hosts: /s3/<label>
    location: str  # the Cloud API location of its data centre
    contract_owned: bool  # buckets belong to the contract (else to the user whose key created them)
    website: str  # the static website endpoint

    @property
    def ownership(self) -> str:
        return "contract-owned" if self.contract_owned else "user-owned"


# object-storage-s3-v2.yaml and object-storage-index-2.0.17.yaml (servers); docs.ionos.com "Endpoints":
# Frankfurt is region "de" at s3.eu-central-1.ionoscloud.com and, legacy, s3-de-central.profitbricks.com
REGIONS = (
    Region(
        "de",
        ("s3.eu-central-1.ionoscloud.com", "s3-de-central.profitbricks.com"),
        "/s3/eu-central-1",
        "de/fra",
        False,
        "s3-website-de-central.profitbricks.com",
    ),
    Region(
        "eu-central-2",
        ("s3.eu-central-2.ionoscloud.com",),
        "/s3/eu-central-2",
        "de/txl",
        False,
        "s3-website.eu-central-2.ionoscloud.com",
    ),
    Region(
        "eu-south-2",
        ("s3.eu-south-2.ionoscloud.com",),
        "/s3/eu-south-2",
        "es/vit",
        False,
        "s3-website.eu-south-2.ionoscloud.com",
    ),
    Region(
        "eu-central-3",
        ("s3.eu-central-3.ionoscloud.com",),
        "/s3/eu-central-3",
        "de/txl",
        True,
        "s3-website.eu-central-3.ionoscloud.com",
    ),
    Region(
        "us-central-1",
        ("s3.us-central-1.ionoscloud.com",),
        "/s3/us-central-1",
        "us/mci",
        True,
        "s3-website.us-central-1.ionoscloud.com",
    ),
)
BY_ID = {r.id: r for r in REGIONS}
# the path prefixes: the host label, and the region id where it differs (/s3/de)
BY_PREFIX = {r.prefix: r for r in REGIONS} | {f"/s3/{r.id}": r for r in REGIONS}
BY_HOST = {h: r for r in REGIONS for h in r.hosts}
WEBSITE_HOSTS = {r.website: r for r in REGIONS}


def s3_hosts() -> tuple[str, ...]:
    return tuple(h for r in REGIONS for h in r.hosts)


def for_request(host: str, path: str) -> tuple[Region, str | None, str, bool] | None:
    """(region, bucket from the Host or None, the path below the prefix, website endpoint) of an S3 request,
    or None when the request is not for Object Storage: virtual-hosted style `bucket.s3.<region>...`, path
    style on the endpoint, or any of those below the region's prefix on the emulator's own address."""
    name = host.rsplit(":", 1)[0].lower() if not host.startswith("[") else host.lower()
    region = BY_HOST.get(name)
    if region is not None:
        return region, None, path, False
    for h, r in BY_HOST.items():
        if name.endswith("." + h):
            return r, name[: -len(h) - 1], path, False
    for w, r in WEBSITE_HOSTS.items():
        if name.endswith("." + w):
            return r, name[: -len(w) - 1], path, True
    if path.startswith("/s3/"):
        end = path.find("/", 4)
        prefix = path if end < 0 else path[:end]
        region = BY_PREFIX.get(prefix)
        if region is not None:
            return region, None, path[len(prefix) :] or "/", False
    return None
