"""An authoritative DNS server (UDP and TCP) for the zones of the Cloud DNS API, reading the emulator's store.

It answers for enabled primary zones in state AVAILABLE with their AVAILABLE, enabled records (plus the apex
SOA, whose serial rises with every completed change, the zone's NS set and DNSKEYs once DNSSEC keys exist),
and for AVAILABLE secondary zones with the data of their last successful zone transfer. The zone of a query is
found through the zone-name index (apis/dns/names.py: one read per label of the name, however many zones
there are); a name has one owning contract, and a primary zone answers before a secondary zone of the same
name (another contract's copy never answers in the owner's place). Behaviour (RFC 1034 §4.3.2):
NXDOMAIN for names the zone lacks, NODATA (NOERROR, SOA in authority) for names without the type, REFUSED
outside every zone, CNAME chasing inside the zone, wildcards (RFC 4592), referrals at delegations below the
apex, ALIAS answered with the target's A/AAAA when the target is served here, PTR answers for reverse
records, AXFR/IXFR over TCP to the addresses of --dns-transfer-allow only (REFUSED to others), NOTIFY from
a secondary zone's primary starting a transfer, RRSIGs for DO queries of signed zones (no NSEC/NSEC3 denial
proofs), and the TC bit when an answer does not fit in UDP.
Every real IONOS API host name the emulator serves (api.ionos.com, dns.de-fra.ionos.com, ...) and the host
name of every Container Registry answer A (or AAAA, when the emulator listens on IPv6) with the emulator's
address, ahead of the zones.

The sockets, their threads and the wiring are in dataplanes/dnsserver.py, which makes this module's
`Authority` on the first query.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass, field
from functools import lru_cache

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.CNAME
import dns.reversename
import dns.rrset

from ..apis.dns import names
from ..apis.dns import rdata as api_rdata
from ..apis.dns import reverse as reverse_api
from ..apis.dns import zones as zone_api
from ..apis.dns.dnssec import KSK_FLAGS, ZSK_FLAGS, _dnssec, dnskey
from ..apis.dns.model import KEYS, PRIMARY_NAMESERVERS, RECORD, SECONDARY, ZONE, serial
from ..apis.dns.zonefile import NS_TTL, SOA_TTL, pending, soa_text
from ..endpoints import S3_BUCKET_PARENTS, address, real_hosts
from ..engine.errors import ApiError
from ..store import Row

log = logging.getLogger("ionos_emulator.dns")

IN = dns.rdataclass.IN
MAX_CHAIN = 8  # CNAME links followed inside a zone
EDNS_PAYLOAD = 1232  # the UDP size we advertise (the DNS flag day 2020 value)
PTR_TTL = 3600
DNSKEY_TTL = 3600
AXFR_CHUNK = 100  # RRsets per zone transfer message (halved when one does not fit)
REAL_HOST_TTL = 60  # short: a resolver pointed here forgets the emulator's answers soon after it stops
REVERSE_ZONES = (dns.name.from_text("in-addr.arpa."), dns.name.from_text("ip6.arpa."))
ZONES_CACHED = 32  # built primary zones kept (a query into one of them reads no record)


@lru_cache(maxsize=256)
def _private_key(pem: str):
    from cryptography.hazmat.primitives import serialization  # here: needed only by signed zones

    return serialization.load_pem_private_key(pem.encode(), password=None)


@dataclass
class Zone:
    """One zone as the server sees it at the time of a query."""

    origin: dns.name.Name
    row: Row
    nodes: dict = field(default_factory=dict)  # name -> {rdtype: RRset}
    aliases: dict = field(default_factory=dict)  # name -> (ttl, target name)
    names: set = field(default_factory=set)  # every existing name, empty non-terminals included
    signer: tuple | None = None  # (KSK key, KSK DNSKEY, ZSK key, ZSK DNSKEY, validity days)

    def add(self, name: dns.name.Name, ttl: int, rd: dns.rdata.Rdata) -> None:
        node = self.nodes.setdefault(name, {})
        rrset = node.get(rd.rdtype)
        if rrset is None:
            rrset = node[rd.rdtype] = dns.rrset.RRset(name, IN, rd.rdtype)
        rrset.add(rd, ttl)  # an RRset has one TTL: the smallest of its records (RFC 2181 §5.2)

    def index(self) -> Zone:
        for name in list(self.nodes) + list(self.aliases):
            while name != self.origin and name not in self.names:
                self.names.add(name)
                name = name.parent()
        self.names.add(self.origin)
        return self

    @property
    def soa(self) -> dns.rrset.RRset:
        return self.nodes[self.origin][dns.rdatatype.SOA]

    def negative_soa(self) -> dns.rrset.RRset:
        """The SOA for a negative answer, with the negative-caching TTL (RFC 2308 §3)."""
        soa = self.soa
        out = dns.rrset.RRset(soa.name, IN, dns.rdatatype.SOA)
        out.add(soa[0], min(soa.ttl, soa[0].minimum))
        return out


def load_primary(store, row: Row) -> Zone:
    name = row.props["zoneName"]
    zone = Zone(dns.name.from_text(name), row)
    records = store.list(row.tenant, RECORD.name, row.id)
    zone.add(
        zone.origin,
        SOA_TTL,
        dns.rdata.from_text(IN, dns.rdatatype.SOA, soa_text(name, serial(row, pending(records + [row])))),
    )
    for ns in PRIMARY_NAMESERVERS:
        zone.add(zone.origin, NS_TTL, dns.rdata.from_text(IN, dns.rdatatype.NS, ns + "."))
    for r in records:
        p = r.props
        if r.meta.get("state") != "AVAILABLE" or not p.get("enabled", True):
            continue
        try:
            rd = api_rdata.record_rdata(p, name)
        except ApiError:  # stored under an older, looser rule: not servable
            continue
        owner = dns.name.from_text(api_rdata.fqdn(p["name"], name) + ".")
        if p["type"] == "ALIAS":
            # an ALIAS is stored and parsed as CNAME data (apis/dns/rdata.py: WIRE_TYPE)
            assert isinstance(rd, dns.rdtypes.ANY.CNAME.CNAME), rd
            zone.aliases[owner] = (int(p.get("ttl", 3600)), rd.target)
        else:
            zone.add(owner, int(p.get("ttl", 3600)), rd)
    keys = store.list(row.tenant, KEYS.name, row.id)
    if keys:
        k = keys[0]
        ksk, zsk = dnskey(KSK_FLAGS, k.x["ksk"][1]), dnskey(ZSK_FLAGS, k.x["zsk"][1])
        zone.add(zone.origin, DNSKEY_TTL, ksk)
        zone.add(zone.origin, DNSKEY_TTL, zsk)
        zone.signer = (
            _private_key(k.x["ksk"][0]),
            ksk,
            _private_key(k.x["zsk"][0]),
            zsk,
            int(k.props.get("validity") or 90),
        )
    return zone.index()


def load_secondary(row: Row) -> Zone | None:
    """The data of the last successful transfer; None while there is none (the server then fails)."""
    records = (row.x.get("transfer") or {}).get("records") or []
    name = row.props["zoneName"]
    zone = Zone(dns.name.from_text(name), row)
    for rec in records:
        owner = dns.name.from_text(rec["name"], zone.origin) if rec["name"] else zone.origin
        zone.add(owner, int(rec["ttl"]), api_rdata.parse(rec["type"], rec["rdata"], name))
    if dns.rdatatype.SOA not in zone.nodes.get(zone.origin, {}):
        return None
    return zone.index()


class Authority:
    """Answers DNS messages from the store (all contracts), and the real IONOS API host names with the
    emulator's own address, so that clients that know only those names reach the emulator."""

    def __init__(self, emu):
        self.emu = emu
        self.real_hosts = {
            dns.name.from_text(h + "."): real_host_rrsets(h, emu.settings.host) for h in real_hosts(emu.apis)
        }
        # Object Storage's virtual-hosted buckets: <bucket>.s3.eu-central-3.ionoscloud.com, one label below
        self.bucket_parents = {dns.name.from_text(h + ".") for h in S3_BUCKET_PARENTS}
        self.transfer_allowed = transfer_networks(getattr(emu.settings, "dns_transfer_allow", ""))
        # primary zones as built for queries, by zone: (version, Zone). A zone is built again when its version
        # changes: every change of its records or keys counts in x["changes"], and a record that goes without
        # one (a creation that failed) changes the count of its records
        self._built = {}  # (tenant, zone id) -> (version, Zone)

    @property
    def store(self):
        return self.emu.store

    def pipeline_host(self, name: dns.name.Name) -> list[dns.rrset.RRset] | None:
        """A Logging or Monitoring pipeline's own host name (its ingest endpoint) while the pipeline exists."""
        from . import ingest

        text = name.to_text(omit_final_dot=True).lower()
        if not ingest.HOST.match(text) or ingest.pipeline_of(self.store, text) is None:
            return None
        return real_host_rrsets(text, self.emu.settings.host)

    def gateway_host(self, name: dns.name.Name) -> list[dns.rrset.RRset] | None:
        """An API Gateway's public endpoint (`<12>-ag.<12>.apigateway.<region>.ionos.com`) while the gateway
        exists; its custom domains are the user's, answered by their own zones."""
        from ..apis import webhosts

        text = name.to_text(omit_final_dot=True).lower()
        if "-ag." not in text or not text.endswith(".ionos.com"):
            return None
        row = webhosts.owner(self.store, text)
        if row is None or row.kind != "apigateway.gateway":
            return None
        return real_host_rrsets(text, self.emu.settings.host)

    def _tenants(self) -> list[int]:
        return [int(c["contractNumber"]) for c in self.emu.identity.contracts()]

    def find(self, qname: dns.name.Name, exact: bool = False) -> tuple[object, Row] | None:
        """The zone that answers for qname: the closest enclosing servable zone, a primary zone before a
        secondary one, the oldest of equals; through the name index, one read per label."""
        # one read once built (a reset or a snapshot loaded may bring a store from before the index)
        names.ensure_built(self.store, self._tenants, (ZONE.name, SECONDARY.name))
        text = qname.to_text()
        for name in [text] if exact else names.ancestors(text):
            rows = [r for r in names.zones_named(self.store, name) if _servable(r)]
            if rows:
                row = min(rows, key=lambda r: (r.kind != ZONE.name, r.meta.get("createdDate", ""), r.seq))
                return (ZONE if row.kind == ZONE.name else SECONDARY), row
        return None

    def load(self, kind, row: Row) -> Zone | None:
        if kind is not ZONE:
            return load_secondary(row)
        version = (row.seq, row.x.get("changes", 0), self.store.count(row.tenant, RECORD.name, row.id))
        built = self._built.get((row.tenant, row.id))
        if built is not None and built[0] == version:
            return built[1]
        zone = load_primary(self.store, row)
        if len(self._built) >= ZONES_CACHED:
            self._built.pop(next(iter(self._built)), None)
        self._built[(row.tenant, row.id)] = (version, zone)
        return zone

    def reverse(self, qname: dns.name.Name) -> str | None:
        """The name a reverse record gives the address qname stands for (the oldest record wins)."""
        try:
            ip = ipaddress.ip_address(dns.reversename.to_address(qname))
        except (dns.exception.DNSException, ValueError, TypeError):
            return None
        found = []
        for tenant in self._tenants():  # an indexed read per contract (reverse records carry their address)
            for row in reverse_api.with_address(self.store, tenant, ip):
                found.append((row.meta.get("createdDate", ""), row.seq, row.props["name"]))
        return min(found)[2] if found else None

    # -- messages ------------------------------------------------------------------------------------

    def respond(self, wire: bytes, tcp: bool, source: str = "") -> tuple[list[bytes], bool]:
        """The wire responses to one wire message (several for a zone transfer, none for garbage), and whether
        they depend on the store alone (a plain query answered without an error of ours: no transfer, no
        NOTIFY, no TSIG), so the packet cache may give them again."""
        try:
            query = dns.message.from_wire(wire)
        except dns.message.ShortHeader:
            return [], False
        except Exception:  # unreadable beyond the header: FORMERR with the query's id
            return [int.from_bytes(wire[:2], "big").to_bytes(2, "big") + b"\x80\x01" + b"\x00" * 8], False
        if query.flags & dns.flags.QR:
            return [], False
        cacheable = (
            query.opcode() == dns.opcode.QUERY
            and not query.had_tsig
            and len(query.question) == 1
            and query.question[0].rdtype not in (dns.rdatatype.AXFR, dns.rdatatype.IXFR)
        )
        try:
            responses = self.handle(query, tcp, source)
        except Exception:
            log.exception("DNS query failed: %s", query.question)
            responses, cacheable = [self._reply(query, dns.rcode.SERVFAIL)], False
        size = 65535 if tcp else max(512, min(query.payload, 4096)) if query.edns >= 0 else 512
        return [r.to_wire(max_size=size, prefer_truncation=True) for r in responses], cacheable and len(responses) == 1

    @staticmethod
    def _reply(query: dns.message.Message, rcode: dns.rcode.Rcode = dns.rcode.NOERROR) -> dns.message.Message:
        resp = dns.message.make_response(query, our_payload=EDNS_PAYLOAD)
        resp.set_rcode(rcode)
        return resp

    def handle(self, query: dns.message.Message, tcp: bool, source: str) -> list[dns.message.Message]:
        opcode = query.opcode()
        if opcode == dns.opcode.NOTIFY:
            return [self.notify(query, source)]
        if opcode != dns.opcode.QUERY:
            return [self._reply(query, dns.rcode.NOTIMP)]
        if len(query.question) != 1:
            return [self._reply(query, dns.rcode.FORMERR)]
        q = query.question[0]
        if q.rdclass not in (IN, dns.rdataclass.ANY):
            return [self._reply(query, dns.rcode.REFUSED)]
        if q.rdtype in (dns.rdatatype.AXFR, dns.rdatatype.IXFR):
            return self.transfer(query, q.name, q.rdtype, tcp, source)
        resp = self._reply(query)
        dnssec_ok = bool(query.ednsflags & dns.flags.DO)
        if dnssec_ok:
            resp.want_dnssec(True)
        real = (
            self.real_hosts.get(q.name)
            or self.pipeline_host(q.name)
            or self.gateway_host(q.name)
            or self.registry_host(q.name)
        )
        if real is None and len(q.name) > 2 and q.name.parent() in self.bucket_parents:
            real = real_host_rrsets(q.name.to_text(omit_final_dot=True), self.emu.settings.host)
        if real is not None:  # the emulator's own names come before any Cloud DNS zone
            resp.flags |= dns.flags.AA
            resp.answer.extend(rrset for rrset in real if q.rdtype in (rrset.rdtype, dns.rdatatype.ANY))
            return [resp]  # NODATA for the other types (and AAAA when the emulator has no IPv6 address)
        found = self.find(q.name)
        if found is None:
            self.answer_reverse(resp, q.name, q.rdtype)
            return [resp]
        zone = self.load(*found)
        if zone is None:
            resp.set_rcode(dns.rcode.SERVFAIL)  # a secondary zone that was never transferred
            return [resp]
        self.answer(zone, resp, q.name, q.rdtype)
        if dnssec_ok and zone.signer:
            sign(zone, resp)
        return [resp]

    def registry_host(self, qname: dns.name.Name) -> list[dns.rrset.RRset] | None:
        """A Container Registry's host name (<name>.cr.<region>.ionos.com), while the registry exists."""
        from .registry import registry_at

        host = qname.to_text(omit_final_dot=True).lower()
        return real_host_rrsets(host, self.emu.settings.host) if registry_at(self.store, host) else None

    def answer_reverse(self, resp: dns.message.Message, qname: dns.name.Name, qtype: dns.rdatatype.RdataType) -> None:
        target = self.reverse(qname) if any(qname.is_subdomain(z) for z in REVERSE_ZONES) else None
        if target is None:
            resp.set_rcode(dns.rcode.REFUSED)
            return
        resp.flags |= dns.flags.AA
        if qtype in (dns.rdatatype.PTR, dns.rdatatype.ANY):
            resp.answer.append(dns.rrset.from_text(qname, PTR_TTL, IN, dns.rdatatype.PTR, target.rstrip(".") + "."))

    def answer(
        self, zone: Zone, resp: dns.message.Message, qname: dns.name.Name, qtype: dns.rdatatype.RdataType
    ) -> None:
        resp.flags |= dns.flags.AA
        seen = set()
        while True:
            cut = self._delegation(zone, qname)
            if cut is not None and not (qtype == dns.rdatatype.DS and cut == qname):
                self._referral(zone, resp, cut)
                return
            node = zone.nodes.get(qname)
            if node is None and qname not in zone.names:
                node = self._wildcard(zone, qname)
                if node is None:
                    resp.set_rcode(dns.rcode.NXDOMAIN)
                    resp.authority.append(zone.negative_soa())
                    return
            node = node or {}
            if qtype == dns.rdatatype.ANY and node:
                resp.answer.extend(node.values())
                return
            if qtype in node:
                resp.answer.append(node[qtype])
                return
            if qtype in (dns.rdatatype.A, dns.rdatatype.AAAA) and qname in zone.aliases:
                if self._alias(zone, resp, qname, qtype):
                    return
            cname = node.get(dns.rdatatype.CNAME)
            if cname is not None and qtype != dns.rdatatype.CNAME:
                resp.answer.append(cname)
                target = cname[0].target
                seen.add(qname)
                if target.is_subdomain(zone.origin) and target not in seen and len(seen) < MAX_CHAIN:
                    qname = target
                    continue
                return
            resp.authority.append(zone.negative_soa())  # NODATA
            return

    @staticmethod
    def _delegation(zone: Zone, qname: dns.name.Name) -> dns.name.Name | None:
        """The highest name between the apex (excluded) and qname (included) that has NS records."""
        cut, name = None, qname
        while name != zone.origin and name.is_subdomain(zone.origin):
            if dns.rdatatype.NS in zone.nodes.get(name, {}):
                cut = name
            name = name.parent()
        return cut

    @staticmethod
    def _referral(zone: Zone, resp: dns.message.Message, cut: dns.name.Name) -> None:
        resp.flags &= ~dns.flags.AA
        ns = zone.nodes[cut][dns.rdatatype.NS]
        resp.authority.append(ns)
        for rd in ns:  # glue
            for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                glue = zone.nodes.get(rd.target, {}).get(rdtype)
                if glue is not None:
                    resp.additional.append(glue)

    @staticmethod
    def _wildcard(zone: Zone, qname: dns.name.Name) -> dict | None:
        """Answers synthesised from the wildcard at the closest encloser, owned by qname (RFC 4592)."""
        encloser = qname.parent()
        while encloser not in zone.names and encloser != zone.origin:
            encloser = encloser.parent()
        source = dns.name.from_text("*", encloser)
        node = zone.nodes.get(source)
        if node is None:
            return None
        out = {}
        for rdtype, rrset in node.items():
            copy = dns.rrset.RRset(qname, IN, rdtype)
            copy.update(rrset)
            out[rdtype] = copy
        return out

    def _alias(
        self, zone: Zone, resp: dns.message.Message, qname: dns.name.Name, qtype: dns.rdatatype.RdataType
    ) -> bool:
        """ALIAS: the target's addresses under the alias name, when the target is served here."""
        ttl, target = zone.aliases[qname]
        found = self.find(target)
        other = zone if found is None or found[1].id == zone.row.id else self.load(*found)
        if found is None or other is None:
            return False
        rrset = other.nodes.get(target, {}).get(qtype)
        if rrset is None:
            return False
        out = dns.rrset.RRset(qname, IN, qtype)
        for rd in rrset:
            out.add(rd, min(ttl, rrset.ttl))
        resp.answer.append(out)
        return True

    def transfer(
        self,
        query: dns.message.Message,
        qname: dns.name.Name,
        qtype: dns.rdatatype.RdataType,
        tcp: bool,
        source: str = "",
    ) -> list[dns.message.Message]:
        """AXFR (and IXFR, answered with the whole zone) over TCP; over UDP an IXFR gets the SOA only. Only
        to the addresses --dns-transfer-allow lists: a zone's data is its owner's, not every client's."""
        if not _ip_in_networks(source, self.transfer_allowed):
            return [self._reply(query, dns.rcode.REFUSED)]
        found = self.find(qname, exact=True)
        zone = self.load(*found) if found else None
        if zone is None:
            return [self._reply(query, dns.rcode.REFUSED if found is None else dns.rcode.SERVFAIL)]
        if not tcp:
            if qtype == dns.rdatatype.AXFR:
                return [self._reply(query, dns.rcode.NOTIMP)]
            resp = self._reply(query)
            resp.flags |= dns.flags.AA
            resp.answer.append(zone.soa)
            return [resp]
        soa = zone.soa
        rrsets = (
            [soa]
            + [rrset for node in zone.nodes.values() for rdtype, rrset in node.items() if rdtype != dns.rdatatype.SOA]
            + [soa]
        )
        out: list[dns.message.Message] = []
        i, n = 0, AXFR_CHUNK
        while i < len(rrsets):
            resp = self._reply(query)
            resp.flags |= dns.flags.AA
            if out:
                resp.question = []
            resp.answer = rrsets[i : i + n]
            try:
                resp.to_wire(max_size=65535)
            except dns.exception.TooBig:
                if n == 1:
                    raise
                n = max(1, n // 2)
                continue
            out.append(resp)
            i, n = i + n, AXFR_CHUNK
        return out

    def notify(self, query: dns.message.Message, source: str) -> dns.message.Message:
        """A primary announces a change: its secondary zone here transfers again (RFC 1996)."""
        if len(query.question) != 1:
            return self._reply(query, dns.rcode.FORMERR)
        qname = query.question[0].name
        for row in names.zones_named(self.store, qname.to_text()):
            if row.kind == SECONDARY.name and _ip_in(source, row.props.get("primaryIps") or []):
                with self.store.tx():
                    zone_api.start_transfer(self.store, row.tenant, row)
                resp = self._reply(query)
                resp.flags |= dns.flags.AA
                return resp
        return self._reply(query, dns.rcode.REFUSED)


def real_host_rrsets(host: str, listen: str) -> list[dns.rrset.RRset]:
    """A and/or AAAA for one real host name: the address the emulator is reached at."""
    ip = ipaddress.ip_address(address(listen)) if _is_ip(address(listen)) else ipaddress.ip_address("127.0.0.1")
    rdtype = dns.rdatatype.AAAA if ip.version == 6 else dns.rdatatype.A
    return [dns.rrset.from_text(host + ".", REAL_HOST_TTL, IN, rdtype, str(ip))]


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def _servable(row: Row) -> bool:
    return row.meta.get("state") == "AVAILABLE" and (row.kind != ZONE.name or row.props.get("enabled", True))


def transfer_networks(spec: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The networks of --dns-transfer-allow ("127.0.0.1,10.0.0.0/8"); a bad entry fails the start."""
    return [ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip()]


def _ip_in_networks(source: str, networks: list) -> bool:
    try:
        src = ipaddress.ip_address(source)
    except ValueError:
        return False
    return any(src in net for net in networks)


def _ip_in(source: str, ips: list[str]) -> bool:
    try:
        src = ipaddress.ip_address(source)
        return any(ipaddress.ip_address(ip) == src for ip in ips)
    except ValueError:
        return False


def sign(zone: Zone, resp: dns.message.Message) -> None:
    """RRSIGs for the answer and authority RRsets of a signed zone: DNSKEY by the KSK, the rest by the ZSK."""
    assert zone.signer is not None, "sign() is only called for a signed zone"
    ksk_key, ksk, zsk_key, zsk, validity = zone.signer
    now = int(time.time())
    for section in (resp.answer, resp.authority):
        sigs = []
        for rrset in section:
            if rrset.rdtype == dns.rdatatype.RRSIG or not rrset.name.is_subdomain(zone.origin):
                continue
            key, dk = (ksk_key, ksk) if rrset.rdtype == dns.rdatatype.DNSKEY else (zsk_key, zsk)
            rd = _dnssec().sign(rrset, key, zone.origin, dk, inception=now - 3600, expiration=now + validity * 86400)
            sigs.append(dns.rrset.from_rdata(rrset.name, rrset.ttl, rd))
        section.extend(sigs)
