"""Identity: one default contract and its owner, users stored as `user` resources, RS256 tokens.

Users live in the resources table (kind "user") so that /um/users can serve them like any resource;
a `login:<email>` entry maps an e-mail address to its contract, user id and password hash.
Tokens are the store's own (Store.token_*), apart from everything else. The signing key is made once per
data dir and kept in the store.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import hmac
import json
import math
import os
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from ..engine import clock
from ..engine.clock import Clock
from ..engine.errors import ApiError, forbidden, unauthorized
from ..store import Row, Store
from .throttle import LoginThrottle

# JWT privilege names, in the order the real tokens list them (api-behaviour.md §1.3).
PRIVILEGES = [
    "DATA_CENTER_CREATE",
    "SNAPSHOT_CREATE",
    "IP_BLOCK_RESERVE",
    "MANAGE_DATAPLATFORM",
    "ACCESS_ACTIVITY_LOG",
    "PCC_CREATE",
    "ACCESS_S3_OBJECT_STORAGE",
    "BACKUP_UNIT_CREATE",
    "CREATE_INTERNET_ACCESS",
    "K8S_CLUSTER_CREATE",
    "FLOW_LOG_CREATE",
    "ACCESS_AND_MANAGE_MONITORING",
    "ACCESS_AND_MANAGE_CERTIFICATES",
    "ACCESS_AND_MANAGE_LOGGING",
    "MANAGE_DBAAS",
    "ACCESS_AND_MANAGE_DNS",
    "MANAGE_REGISTRY",
    "ACCESS_AND_MANAGE_CDN",
    "ACCESS_AND_MANAGE_VPN",
    "ACCESS_AND_MANAGE_API_GATEWAY",
    "ACCESS_AND_MANAGE_NGS",
    "ACCESS_AND_MANAGE_KAAS",
    "ACCESS_AND_MANAGE_NETWORK_FILE_STORAGE",
    "ACCESS_AND_MANAGE_AI_MODEL_HUB",
    "CREATE_NETWORK_SECURITY_GROUPS",
    "ACCESS_AND_MANAGE_IAM_RESOURCES",
]

# Group privilege flags (um/groups properties) and the JWT privilege each one grants.
GROUP_PRIVILEGES = {
    "createDataCenter": "DATA_CENTER_CREATE",
    "createSnapshot": "SNAPSHOT_CREATE",
    "reserveIp": "IP_BLOCK_RESERVE",
    "manageDataplatform": "MANAGE_DATAPLATFORM",
    "accessActivityLog": "ACCESS_ACTIVITY_LOG",
    "createPcc": "PCC_CREATE",
    "s3Privilege": "ACCESS_S3_OBJECT_STORAGE",
    "createBackupUnit": "BACKUP_UNIT_CREATE",
    "createInternetAccess": "CREATE_INTERNET_ACCESS",
    "createK8sCluster": "K8S_CLUSTER_CREATE",
    "createFlowLog": "FLOW_LOG_CREATE",
    "accessAndManageMonitoring": "ACCESS_AND_MANAGE_MONITORING",
    "accessAndManageCertificates": "ACCESS_AND_MANAGE_CERTIFICATES",
    "accessAndManageLogging": "ACCESS_AND_MANAGE_LOGGING",
    "manageDBaaS": "MANAGE_DBAAS",
    "accessAndManageDns": "ACCESS_AND_MANAGE_DNS",
    "manageRegistry": "MANAGE_REGISTRY",
    "accessAndManageCdn": "ACCESS_AND_MANAGE_CDN",
    "accessAndManageVpn": "ACCESS_AND_MANAGE_VPN",
    "accessAndManageApiGateway": "ACCESS_AND_MANAGE_API_GATEWAY",
    "accessAndManageKaas": "ACCESS_AND_MANAGE_KAAS",
    "accessAndManageNetworkFileStorage": "ACCESS_AND_MANAGE_NETWORK_FILE_STORAGE",
    "accessAndManageAiModelHub": "ACCESS_AND_MANAGE_AI_MODEL_HUB",
    "createNetworkSecurityGroups": "CREATE_NETWORK_SECURITY_GROUPS",
    "accessAndManageIamResources": "ACCESS_AND_MANAGE_IAM_RESOURCES",
}

# Limits of the default contract (MB for RAM and storage), shaped like the real `resourceLimits`.
DEFAULT_LIMITS = {
    "coresPerServer": 62,
    "coresPerContract": 200,
    "ramPerServer": 245760,
    "ramPerContract": 1024000,
    "hddLimitPerVolume": 4194304,
    "hddLimitPerContract": 20971520,
    "ssdLimitPerVolume": 4194304,
    "ssdLimitPerContract": 20971520,
    "reservableIps": 50,
    "k8sClusterLimitTotal": 50,
    "nlbLimitTotal": 10,
    "natGatewayLimitTotal": 10,
    "securityGroupsPerVdc": 100,
    "securityGroupsPerResource": 10,
    "rulesPerSecurityGroup": 100,
}

# Password policies are rows of the Identity API's kind; where a contract has none, the IONOS default holds
# (guess: the Cloud API's own rule, at least 5 characters, is the only one documented).
POLICY_KIND = "identity.passwordpolicy"
DEFAULT_PASSWORD_POLICY = {
    "description": "IONOS default password policy",
    "minLength": 5,
    "minNumberChars": 0,
    "minUpperChars": 0,
    "minLowerChars": 0,
    "minSpecialChars": 0,
}
POLICY_CLASSES = (
    ("minNumberChars", "digits (0-9)", lambda c: "0" <= c <= "9"),
    ("minUpperChars", "upper-case letters (A-Z)", lambda c: "A" <= c <= "Z"),
    ("minLowerChars", "lower-case letters (a-z)", lambda c: "a" <= c <= "z"),
    ("minSpecialChars", "special characters (not a-z, A-Z, 0-9)", lambda c: not (c.isascii() and c.isalnum())),
)


def policy_error(attr: str, message: str) -> ApiError:
    """A password the contract's policy refuses: the Cloud API's validation error on the attribute."""
    return ApiError(422, f"attribute '{attr}' {message}", vdc="VDC-2-1")


# Enough to keep stored passwords from being read back; few enough that a fresh start stays fast
# (a successful check is remembered, so requests do not pay it).
PBKDF2_ROUNDS = 20_000
MAX_TOKENS_PER_USER = 100


@dataclass
class Principal:
    """Who is calling: the contract (tenant), the user, and how they authenticated."""

    tenant: int
    user_id: str
    email: str
    admin: bool
    owner: bool
    token_id: str | None = None
    flags: frozenset[str] = frozenset()  # group privilege flags held (administrators hold all)
    groups: tuple[str, ...] = ()  # ids of the groups the user belongs to
    home: int | None = None  # the user's own contract, when acting on a reseller's sub-contract (`tenant`)

    def can(self, flag: str) -> bool:
        return self.admin or flag in self.flags

    @property
    def privileges(self) -> list[str]:
        """The JWT `identity.privileges` strings."""
        if self.admin:
            return list(PRIVILEGES)
        return [jwt for flag, jwt in GROUP_PRIVILEGES.items() if flag in self.flags]


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    dk = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, PBKDF2_ROUNDS)
    return f"pbkdf2${PBKDF2_ROUNDS}${salt.hex()}${dk.hex()}"


_NOBODY: list[str] = []  # the hash an unknown user's password is checked against (made on first use)


def nobody_hash() -> str:
    """A hash no password matches, checked for unknown users so that their 401 costs what a real user's does
    (no telling by the time which e-mail addresses have an account)."""
    if not _NOBODY:
        _NOBODY.append(hash_password(os.urandom(16).hex()))
    return _NOBODY[0]


# Passwords that matched a stored hash, by (that hash, a keyed digest of the password): a caller authenticates
# again whenever the identity generation moves (any token or user change), and hashing again each time cost every
# request of every user 15 ms of CPU under a load of logins. Only matches are kept (a wrong password costs the
# full hash, as an unknown user's does), bounded, and never the password itself.
_MATCHED: OrderedDict[tuple[str, bytes], None] = OrderedDict()
_MATCHED_MAX = 4096
_MATCHED_KEY = os.urandom(32)
_MATCHED_LOCK = threading.Lock()


def check_password(password: str, stored: str) -> bool:
    key = (stored, hmac.new(_MATCHED_KEY, password.encode(), hashlib.sha256).digest())
    with _MATCHED_LOCK:
        if key in _MATCHED:
            _MATCHED.move_to_end(key)
            return True
    parts = stored.split("$")
    rounds, salt, dk = (int(parts[1]), parts[2], parts[3]) if len(parts) == 4 else (60_000, parts[1], parts[2])
    cand = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), rounds)
    matched = hmac.compare_digest(cand.hex(), dk)
    if matched:
        with _MATCHED_LOCK:
            _MATCHED[key] = None
            while len(_MATCHED) > _MATCHED_MAX:
                _MATCHED.popitem(last=False)
    return matched


@functools.lru_cache(maxsize=8)
def _rs256_key(pem: str):
    """A PEM key made into the key object PyJWT signs or verifies with, once: loading a private key checks it,
    29 ms of CPU that every token issued paid (and a flood of logins made every other request wait for)."""
    import jwt

    return jwt.get_algorithm_by_name("RS256").prepare_key(pem)


def _compact(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class Identity:
    def __init__(
        self,
        store: Store,
        *,
        contract_number: int,
        owner_email: str,
        owner_password: str,
        throttle: LoginThrottle | None = None,
        clock: Clock | None = None,
    ):
        self.store = store
        self.throttle = throttle or LoginThrottle(per_user=0, per_source=0)
        self.clock = clock or Clock(store)
        self.contract_number = contract_number
        self.owner_email = owner_email
        self.owner_password = owner_password
        # Authorization header -> (identity generation, principal, expiry or None). The generation is a value
        # in the store that every change to users, groups or passwords replaces, so one read per request
        # tells whether a remembered principal is still right, in every process sharing the store (a Bearer
        # principal's token is read as well: tokens come and go without moving the generation).
        self._cache: dict[str, tuple[str, Principal, float | None]] = {}
        # Basic credentials -> the stored hash they were checked against: after a change of the generation (a
        # user changed elsewhere) the principal is read again, but the slow hash only if the password changed
        self._verified: dict[str, str] = {}
        self._key: tuple[str, str] | None = None
        self._generation_at: tuple[int, str] | None = None  # (store version, the generation read then)

    # -- seeding ---------------------------------------------------------------------------------
    def ensure_default(self) -> None:
        """Create the default contract and its owner once; a later start keeps them as they are (the owner's
        password is the operator's --password, not held to a password policy)."""
        with self.store.tx():
            if self.store.kv_get(f"contract:{self.contract_number}") is None:
                self.create_contract(self.contract_number, self.owner_email, self.owner_password, check=False)

    def create_contract(
        self,
        number: int,
        owner_email: str | None,
        owner_password: str | None,
        limits: dict | None = None,
        *,
        reseller: bool = False,
        parent: int | None = None,
        name: str = "",
        reference: str = "",
        check: bool = True,
    ) -> dict:
        """A contract (tenant), with its owner unless a reseller makes it (its admins come later); every
        resource, request and user belongs to exactly one. `reseller`: a master contract that makes
        sub-contracts; `parent`: the reseller contract that made this one. The owner's password is held to
        the IONOS default policy when `check` (a new contract has none of its own)."""
        if self.store.kv_get(f"contract:{number}") is not None:
            raise ValueError(f"contract {number} exists")
        if owner_email and self.store.kv_get(f"login:{owner_email.lower()}") is not None:
            raise ValueError(f"a user {owner_email} exists")
        record = {
            "contractNumber": number,
            "owner": owner_email or "",
            "status": "BILLABLE",
            "regDomain": "ionos.de",
            "resourceLimits": {**DEFAULT_LIMITS, **(limits or {})},
            "reseller": reseller,
            "parent": parent,
            "name": name,
            "resellerReference": reference,
            "created": self.clock.now(),
        }
        self.store.kv_set(f"contract:{number}", record)
        if owner_email:
            self.create_user(
                number,
                email=owner_email,
                password=owner_password or "",
                firstname="Contract",
                lastname="Owner",
                administrator=True,
                owner=True,
                check=check,
            )
        return record

    def update_contract(self, record: dict) -> None:
        self.store.kv_set(f"contract:{record['contractNumber']}", record)
        self.changed()

    def subcontracts(self, tenant: int) -> list[dict]:
        """The contracts a reseller's master contract made, oldest first."""
        return [c for c in self.contracts() if c.get("parent") == tenant]

    def reachable(self, p: Principal) -> list[int]:
        """The contracts a user may work on: their own and, for an administrator of a reseller's master
        contract, the sub-contracts it made."""
        own = self.contract(p.tenant) or {}
        subs = [c["contractNumber"] for c in self.subcontracts(p.tenant)] if own.get("reseller") and p.admin else []
        return [p.tenant, *subs]

    def on_contract(self, p: Principal, header: str | None) -> Principal:
        """The caller acting on the contract an X-Contract-Number header names (Basic authentication): their
        own is theirs; a sub-contract is reached by an administrator of its reseller's master contract, as that
        contract's administrator; anything else is refused."""
        if header is None or not header.strip():
            return p
        raw = header.strip()
        if not raw.isdigit() or len(raw) > 10:
            raise ApiError(400, f"X-Contract-Number must be a contract number, not '{raw[:32]}'")
        number = int(raw)
        if number == p.tenant:
            return p
        own = self.contract(p.tenant) or {}
        if not own.get("reseller"):
            raise forbidden("Access Denied: X-Contract-Number is only for the users of a reseller's contracts")
        if not p.admin or number not in self.reachable(p):
            raise unauthorized()
        return dataclasses.replace(
            p, tenant=number, admin=True, owner=False, flags=frozenset(), groups=(), home=p.home or p.tenant
        )

    # -- password policies (the Identity API's; the IONOS default where a contract has none) ------------
    def password_policy(self, tenant: int) -> dict:
        """The policy in effect for a contract: its newest, else the IONOS default."""
        rows = self.store.list(tenant, POLICY_KIND, "")
        return dict(rows[-1].props) if rows else dict(DEFAULT_PASSWORD_POLICY)

    def check_password(self, tenant: int, password: str, attr: str = "password") -> str:
        """The password if it keeps the contract's policy, else the 422 naming what it lacks."""
        policy = self.password_policy(tenant)
        if not isinstance(password, str) or len(password) < int(policy.get("minLength") or 0):
            raise policy_error(attr, f"must have at least {policy.get('minLength')} characters")
        for field, what, test in POLICY_CLASSES:
            wanted = int(policy.get(field) or 0)
            if sum(1 for c in password if test(c)) < wanted:
                raise policy_error(attr, f"must contain at least {wanted} {what}")
        return password

    def contracts(self) -> list[dict]:
        return [c for _, c in self.store.kv_prefix("contract:")]

    def contract(self, tenant: int) -> dict:
        return self.store.kv_get(f"contract:{tenant}")

    def create_user(
        self,
        tenant: int,
        *,
        email: str,
        password: str,
        firstname: str = "",
        lastname: str = "",
        administrator: bool = False,
        owner: bool = False,
        force_sec_auth: bool = False,
        user_id: str | None = None,
        check: bool = True,
        attr: str = "password",
    ) -> Row:
        """A user of the contract; `check`: the password must keep the contract's password policy."""
        if check:
            self.check_password(tenant, password, attr)
        uid = user_id or str(uuid.uuid4())
        now = self.clock.now()
        row = Row(
            tenant=tenant,
            kind="user",
            id=uid,
            path=f"um/users/{uid}",
            doc={
                "properties": {
                    "firstname": firstname,
                    "lastname": lastname,
                    "email": email,
                    "administrator": administrator,
                    "forceSecAuth": force_sec_auth,
                    "secAuthActive": False,
                    "s3CanonicalUserId": uuid.uuid4().hex,
                    "active": True,
                },
                "metadata": {"etag": uuid.uuid4().hex, "createdDate": clock.iso(now), "lastLogin": None},
                "x": {"owner": owner},
            },
        )
        self.store.insert(row)
        self.store.kv_set(f"login:{email.lower()}", {"tenant": tenant, "user": uid, "hash": hash_password(password)})
        self.changed()
        return row

    def set_password(self, email: str, password: str, attr: str = "password") -> None:
        login = self.store.kv_get(f"login:{email.lower()}")
        self.check_password(login["tenant"], password, attr)
        login["hash"] = hash_password(password)
        self.store.kv_set(f"login:{email.lower()}", login)
        self.changed()

    def owner(self, tenant: int) -> Principal:
        login = self.store.kv_get(f"login:{self.owner_email.lower()}")
        return self._principal(login["tenant"], login["user"])

    # -- authentication --------------------------------------------------------------------------
    def generation(self) -> str:
        return self.store.kv_get("identity:generation") or ""

    def changed(self) -> None:
        """Users, groups, memberships or passwords changed: remembered principals are stale."""
        self.store.kv_set("identity:generation", uuid.uuid4().hex)

    def authenticate(self, authorization: str | None, source: str = "", version: int | None = None) -> Principal:
        """The caller of a request from `source` (its address: failed logins are limited per address);
        `version` (the store's, read by this request before anything else) spares the generation's read
        while the store is unchanged."""
        if not authorization:
            raise unauthorized()
        if version is not None and self._generation_at is not None and self._generation_at[0] == version:
            gen = self._generation_at[1]
        else:
            gen = self.generation()
            if version is not None:
                self._generation_at = (version, gen)
        cached = self._cache.get(authorization)
        if cached is not None and cached[0] == gen and (cached[2] is None or cached[2] > self.clock.now()):
            kid = cached[1].token_id
            if kid is None or self.store.token_get(kid) is not None:  # a token deleted since: a 401 below
                return cached[1]
        principal, expires = self._authenticate(authorization, source)
        if len(self._cache) > 10_000:  # bounded: many distinct tokens must not grow memory without end
            self._cache.clear()
        self._cache[authorization] = (gen, principal, expires)
        return principal

    def expires(self, authorization: str | None) -> float:
        """When credentials that `authenticate` accepted stop being accepted, on the emulated clock without a
        change to the store (a token's expiry; never for Basic: inf); -inf when they are not known here."""
        cached = self._cache.get(authorization or "")
        if cached is None:
            return -math.inf
        return math.inf if cached[2] is None else cached[2]

    def _authenticate(self, authorization: str, source: str = "") -> tuple[Principal, float | None]:
        scheme, _, cred = authorization.partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            return self._basic(cred.strip(), source), None
        if scheme == "bearer":
            return self._bearer(cred.strip())
        raise unauthorized()

    def _principal(self, tenant: int, user_id: str, token_id: str | None = None) -> Principal:
        user = self.store.get(tenant, "user", "", user_id)
        if user is None or not user.props.get("active", True):
            raise unauthorized()
        owner = bool(user.x.get("owner"))
        admin = owner or bool(user.props.get("administrator"))
        flags: set[str] = set()
        groups: list[str] = []
        if not admin:  # privileges come from the groups the user is a member of
            for g in self.store.list(tenant, "group", ""):
                if user_id in g.x.get("members", ()):
                    groups.append(g.id)
                    flags.update(f for f in GROUP_PRIVILEGES if g.props.get(f))
        return Principal(
            tenant=tenant,
            user_id=user_id,
            email=user.props["email"],
            admin=admin,
            owner=owner,
            token_id=token_id,
            flags=frozenset(flags),
            groups=tuple(groups),
        )

    def _basic(self, cred: str, source: str = "") -> Principal:
        try:
            email, _, password = base64.b64decode(cred, validate=True).decode().partition(":")
        except Exception:
            raise unauthorized() from None
        login = self.store.kv_get(f"login:{email.lower()}")
        if login is not None and self._verified.get(cred) == login["hash"]:
            return self._principal(login["tenant"], login["user"])  # this password matched this hash before
        self.throttle.check(source, email)  # 429 past the limit, before any hashing
        # slow on purpose (remembered once it worked), and as slow for an e-mail that is nobody's
        if not check_password(password, login["hash"] if login else nobody_hash()) or login is None:
            self.throttle.failed(source, email)
            raise unauthorized()
        if len(self._verified) > 10_000:
            self._verified.clear()
        self._verified[cred] = login["hash"]
        return self._principal(login["tenant"], login["user"])

    # -- tokens ----------------------------------------------------------------------------------
    def _signing_key(self) -> tuple[str, str]:
        if self._key is None:
            pair = self.store.kv_get("jwt:key")
            if pair is None:
                from cryptography.hazmat.primitives import serialization
                from cryptography.hazmat.primitives.asymmetric import rsa

                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                priv = key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                ).decode()
                pub = (
                    key.public_key()
                    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
                    .decode()
                )
                pair = [priv, pub]
                with self.store.tx():
                    existing = self.store.kv_get("jwt:key")
                    if existing is None:
                        self.store.kv_set("jwt:key", pair)
                    else:
                        pair = existing
            self._key = (pair[0], pair[1])
        return self._key

    @staticmethod
    def _new_kid() -> str:
        """ionosctl decodes the header with standard base64 and no padding fix-up: the encoded header must
        have no '-' or '_' (its length is always 96 characters for a 36-character kid)."""
        while True:
            kid = str(uuid.uuid4())
            enc = _b64(_compact({"typ": "JWT", "kid": kid, "alg": "RS256"}))
            if "-" not in enc and "_" not in enc and len(enc) % 4 == 0:
                return kid

    def issue_token(self, p: Principal, ttl: int) -> str:
        if len(self.store.tokens_of(p.user_id)) >= MAX_TOKENS_PER_USER:
            from ..engine.errors import unprocessable

            raise unprocessable(f"A user can have at most {MAX_TOKENS_PER_USER} tokens", "422")
        kid = self._new_kid()
        iat = int(self.clock.now())
        payload = {
            "iss": "ionoscloud",
            "iat": iat,
            "client": "USER",
            "identity": {
                "isParent": False,
                "privileges": p.privileges,
                "uuid": p.user_id,
                "resellerId": 1,
                "regDomain": "ionos.de",
                "role": "owner" if p.owner else ("admin" if p.admin else "user"),
                "contractNumber": p.tenant,
            },
            "exp": iat + ttl,
        }
        # Built by hand because PyJWT orders header fields its own way; the real header is exactly
        # {"typ","kid","alg"} (ionosctl depends on its length). PyJWT still does the RS256 signing.
        import jwt  # imported on first use (with cryptography it costs a tenth of the start-up)

        alg = jwt.get_algorithm_by_name("RS256")
        signing_input = f"{_b64(_compact({'typ': 'JWT', 'kid': kid, 'alg': 'RS256'}))}.{_b64(_compact(payload))}"
        sig = alg.sign(signing_input.encode(), _rs256_key(self._signing_key()[0]))
        token = f"{signing_input}.{_b64(sig)}"
        rec = {"id": kid, "tenant": p.tenant, "user": p.user_id, "created": iat, "expires": iat + ttl}
        if p.home is not None:  # made for a sub-contract by its reseller's user (X-Contract-Number)
            rec["home"] = p.home
        self.store.token_put(rec)
        return token

    def _bearer(self, token: str) -> tuple[Principal, float]:
        _, pub = self._signing_key()
        import jwt

        try:
            # expiry by the emulated clock (below, from the record), not the real one PyJWT would read
            claims = jwt.decode(
                token,
                _rs256_key(pub),
                algorithms=["RS256"],
                options={"require": ["exp", "iat"], "verify_exp": False, "verify_iat": False},
            )
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise unauthorized() from None
        rec = self.store.token_get(kid) if kid else None
        if rec is None or rec["expires"] <= self.clock.now():
            raise unauthorized()
        ident = claims.get("identity") or {}
        if ident.get("uuid") != rec["user"]:
            raise unauthorized()
        if rec.get("home") is not None:  # a reseller's user on a sub-contract, as long as it is theirs to reach
            base = self._principal(rec["home"], rec["user"], token_id=kid)
            return self.on_contract(base, str(rec["tenant"])), float(rec["expires"])
        return self._principal(rec["tenant"], rec["user"], token_id=kid), float(rec["expires"])

    def tokens_of(self, p: Principal) -> list[dict]:
        return self.tokens_of_user(p.user_id)

    def tokens_of_user(self, user_id: str) -> list[dict]:
        return self.store.tokens_of(user_id)

    def token(self, p: Principal, kid: str) -> dict | None:
        rec = self.store.token_get(kid)
        return rec if rec and rec["user"] == p.user_id else None

    def delete_token(self, kid: str) -> None:
        # not a change of the identity generation: a remembered Bearer principal is checked against its token
        # on every request (authenticate), so a login or logout leaves every other caller's principal alone
        self.store.token_delete(kid)
