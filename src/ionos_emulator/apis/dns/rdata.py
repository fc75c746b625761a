"""Record names and contents: what the API accepts per record type, and the conversion between an API
record (type, content, priority) and DNS data (dnspython rdata). Shared by the API, zone files, zone
transfers and the DNS server, so that whatever the API accepts is exactly what the server can answer."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from typing import TYPE_CHECKING

from ...engine.errors import conflict, invalid

# dnspython is imported where DNS data is parsed or made (here and in the other modules of Cloud DNS and
# the DNS server): it costs about 7 MB and 40 ms of every start-up, and most emulators hold no zone
if TYPE_CHECKING:
    import dns.rdata

# The RecordType enum of the API (strict in the Go SDK: never emit another type).
RECORD_TYPES = (
    "A",
    "AAAA",
    "CNAME",
    "ALIAS",
    "MX",
    "NS",
    "SRV",
    "TXT",
    "CAA",
    "SSHFP",
    "TLSA",
    "SMIMEA",
    "DS",
    "HTTPS",
    "SVCB",
    "OPENPGPKEY",
    "CERT",
    "URI",
    "RP",
    "LOC",
)
NEEDS_PRIORITY = frozenset({"MX", "SRV", "URI"})
HOST_TYPES = frozenset({"CNAME", "NS", "ALIAS"})  # content is one host name
# ALIAS is no DNS type: it is stored and validated like a CNAME, and answered as the target's A/AAAA.
WIRE_TYPE = {"ALIAS": "CNAME"}

_LABEL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
TXT_CHUNK = 255


# -- names -----------------------------------------------------------------------------------------


def clean_zone_name(value, attr: str = "properties.zoneName") -> str:
    """A zone name as given, checked: at least two labels, no wildcard; a final dot is dropped."""
    name = (value or "").strip().rstrip(".") if isinstance(value, str) else ""
    labels = name.split(".") if name else []
    if len(labels) < 2 or len(name) > 253 or not all(_LABEL.match(lb) for lb in labels):
        raise invalid(attr, f"must be a domain name with at least two labels, got {value!r}")
    return name


def same_name(a: str, b: str) -> bool:
    return a.rstrip(".").lower() == b.rstrip(".").lower()


def is_apex(name: str) -> bool:
    return name in ("", "@")


def check_record_name(value, zone_name: str, attr: str = "properties.name") -> str:
    """A record name relative to the zone: "" or "@" is the apex, "*" may lead as a wildcard."""
    if not isinstance(value, str):
        raise invalid(attr, "must be a string")
    if is_apex(value):
        return value
    labels = value.rstrip(".").split(".")
    for i, lb in enumerate(labels):
        if not (_LABEL.match(lb) or (lb == "*" and i == 0)):
            raise invalid(attr, f"is not a valid record name: {value!r}")
    if len(fqdn(value, zone_name)) > 253:
        raise invalid(attr, "makes a fully qualified name longer than 253 characters")
    return value


def fqdn(name: str, zone_name: str) -> str:
    """The record's fully qualified name without the final dot, e.g. app.example.com."""
    zone = zone_name.rstrip(".")
    return zone if is_apex(name) else f"{name.rstrip('.')}.{zone}"


def check_host(value: str, attr: str) -> str:
    host = value.strip().rstrip(".")
    labels = host.split(".") if host else []
    if not labels or len(host) > 253 or not all(_LABEL.match(lb) for lb in labels):
        raise invalid(attr, f"must be a host name, got {value!r}")
    return host


# -- content -----------------------------------------------------------------------------------------


def _quote_txt(content: str) -> str:
    """TXT content as zone-file text: already quoted strings are kept, plain text is quoted in 255-byte parts."""
    text = content.strip()
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        return text
    raw = content.encode()
    parts = [raw[i : i + TXT_CHUNK] for i in range(0, len(raw), TXT_CHUNK)] or [b""]
    out = []
    for part in parts:
        s = "".join(
            chr(b)
            if 0x20 <= b < 0x7F and b not in (0x22, 0x5C)
            else ("\\" + chr(b) if b in (0x22, 0x5C) else f"\\{b:03d}")
            for b in part
        )
        out.append(f'"{s}"')
    return " ".join(out)


def rdata_text(rtype: str, content: str, priority: int | None) -> str:
    """The zone-file RDATA of an API record. Host names in content are absolute (IONOS gives FQDNs)."""
    if rtype in HOST_TYPES:
        return check_host(content, "properties.content") + "."
    if rtype == "MX":
        return f"{priority} {check_host(content, 'properties.content')}."
    if rtype == "SRV":
        parts = content.split()
        if len(parts) == 3:  # "<weight> <port> <target>", the priority is its own attribute
            return f"{priority} {parts[0]} {parts[1]} {check_host(parts[2], 'properties.content')}."
        raise invalid("properties.content", "of an SRV record must be '<weight> <port> <target>'")
    if rtype == "URI":
        parts = content.split(None, 1)
        if len(parts) == 2 and not parts[1].lstrip().startswith('"'):
            # "<priority> <weight> <target>" with the priority given in content too
            return content
        return f"{priority} {content}"
    if rtype == "TXT":
        return _quote_txt(content)
    return content


@lru_cache(maxsize=20000)
def to_rdata(rtype: str, content: str, priority: int | None, origin: str) -> dns.rdata.Rdata:
    """Parses an API record into DNS data; raises `invalid` (422) naming the attribute when it is invalid."""
    if rtype in ("A", "AAAA"):
        try:
            addr = ipaddress.ip_address(content.strip())
        except ValueError:
            addr = None
        if addr is None or addr.version != (4 if rtype == "A" else 6):
            raise invalid(
                "properties.content",
                f"of an {rtype} record must be an IPv{4 if rtype == 'A' else 6} address, got {content!r}",
            )
    import dns.exception
    import dns.name
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype

    text = rdata_text(rtype, content, priority)
    try:
        return dns.rdata.from_text(
            dns.rdataclass.IN,
            dns.rdatatype.from_text(WIRE_TYPE.get(rtype, rtype)),
            text,
            origin=dns.name.from_text(origin),
            relativize=False,
        )
    except (dns.exception.DNSException, ValueError, UnicodeError) as e:
        raise invalid("properties.content", f"is not valid {rtype} data ({text!r}): {e}") from None


def check_record(props: dict, zone_name: str) -> dict:
    """Validates a record's properties and returns them with the defaults filled in."""
    rtype = props.get("type")
    if rtype not in RECORD_TYPES:
        raise invalid("properties.type", "must be one of: " + ", ".join(RECORD_TYPES))
    name = check_record_name(props.get("name"), zone_name)
    content = props.get("content")
    if not isinstance(content, str) or not content.strip():
        raise invalid("properties.content", "is required")
    priority = props.get("priority")
    if rtype in NEEDS_PRIORITY and priority is None:
        raise invalid("properties.priority", f"is required for {rtype} records")
    if rtype == "CNAME" and is_apex(name):
        raise conflict(
            "a CNAME record cannot be created at the zone apex: it would coexist with its SOA and NS records"
        )
    to_rdata(rtype, content, priority if rtype in NEEDS_PRIORITY else None, zone_name + ".")
    out = {
        "name": name,
        "type": rtype,
        "content": content,
        "ttl": 3600 if props.get("ttl") is None else props["ttl"],
        "enabled": True if props.get("enabled") is None else props["enabled"],
    }
    if priority is not None:
        out["priority"] = priority
    return out


def record_rdata(props: dict, zone_name: str) -> dns.rdata.Rdata:
    rtype = props["type"]
    return to_rdata(
        rtype, props["content"], props.get("priority") if rtype in NEEDS_PRIORITY else None, zone_name.rstrip(".") + "."
    )


@lru_cache(maxsize=20000)
def parse(rtype: str, text: str, zone_name: str) -> dns.rdata.Rdata:
    """Zone-file RDATA of any DNS type (transferred records), relative names completed with the zone."""
    import dns.name
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype

    return dns.rdata.from_text(
        dns.rdataclass.IN, dns.rdatatype.from_text(rtype), text, origin=dns.name.from_text(zone_name), relativize=False
    )


def from_rdata(rtype: str, rd: dns.rdata.Rdata) -> tuple[str, int | None]:
    """(content, priority) of DNS data as the API shows it; names in `rd` must be absolute. `rd` is data of
    `rtype` (parsed as it), so the class checks only tell the type checker which fields it has."""
    import dns.rdtypes.ANY.URI
    import dns.rdtypes.IN.A
    import dns.rdtypes.IN.AAAA
    import dns.rdtypes.IN.SRV
    import dns.rdtypes.mxbase
    import dns.rdtypes.nsbase
    import dns.rdtypes.txtbase

    if rtype in ("A", "AAAA") and isinstance(rd, (dns.rdtypes.IN.A.A, dns.rdtypes.IN.AAAA.AAAA)):
        return rd.address, None
    if rtype in ("CNAME", "NS", "ALIAS") and isinstance(rd, dns.rdtypes.nsbase.NSBase):
        return rd.target.to_text(omit_final_dot=True), None
    if rtype == "MX" and isinstance(rd, dns.rdtypes.mxbase.MXBase):
        return rd.exchange.to_text(omit_final_dot=True), rd.preference
    if rtype == "SRV" and isinstance(rd, dns.rdtypes.IN.SRV.SRV):
        return f"{rd.weight} {rd.port} {rd.target.to_text(omit_final_dot=True)}", rd.priority
    if rtype == "URI" and isinstance(rd, dns.rdtypes.ANY.URI.URI):
        return rd.to_text().split(None, 1)[1], rd.priority
    if rtype == "TXT" and isinstance(rd, dns.rdtypes.txtbase.TXTBase):
        raw = b"".join(rd.strings)
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            return rd.to_text(), None
        return (text, None) if text.isprintable() else (rd.to_text(), None)
    return rd.to_text(), None
