"""Identity (iam.ionos.com): a contract's password policies. The newest one is the policy in effect, and the
identity (identity/service.py) holds every password set through the emulator to it: Cloud API users created
or changed in /um/users, reseller admins, contract owners made through /_emulator/contracts."""

from __future__ import annotations

import uuid

from ...gateway.context import Ctx
from ...identity.service import DEFAULT_PASSWORD_POLICY, POLICY_KIND
from ...store import Row
from ..product import PKind, Product, computed_rows

PRODUCT = Product(
    name="identity",
    spec_name="identity",
    config_name="",  # not a product of the IONOS config file (sdk-go-bundle fileconfiguration)
    host="iam.ionos.com",
    privilege="accessAndManageIamResources",
)
PRODUCTS = [PRODUCT]

# the id the IONOS default policy is shown under where a contract has none of its own (guess: a fixed one)
DEFAULT_POLICY_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://iam.ionos.com/passwordpolicies/default"))
COUNTS = ("minNumberChars", "minUpperChars", "minLowerChars", "minSpecialChars")


def with_defaults(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    """The character counts a policy leaves out are 0 (the spec's defaults)."""
    return {**{name: 0 for name in COUNTS}, **props}


def effective(ctx: Ctx, rows: list[Row], values: list[str]) -> list[Row]:
    """effectivePolicy=true: only the policy in effect (the newest), or the IONOS default where there is none."""
    if values[-1].lower() != "true":
        return rows
    if rows:
        return rows[-1:]
    return computed_rows(ctx, POLICY, {DEFAULT_POLICY_ID: dict(DEFAULT_PASSWORD_POLICY)})


POLICY = PKind(
    PRODUCT,
    POLICY_KIND.split(".", 1)[1],
    "passwordpolicy",
    "passwordpolicies",
    absolute_href=True,
    stateless=True,
    prepare=with_defaults,
    filters={"effectivePolicy": effective},
)
assert POLICY.name == POLICY_KIND, "the identity reads the policies under this kind"
