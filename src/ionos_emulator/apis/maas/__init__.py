"""Monitoring as a Service (the legacy alarms "part of the Cloud API", api.ionos.com/monitoring/v1): e-mail
actions, and threshold alarms on a server's CPU, network or storage that trigger them. No spec file exists:
spec/data/maas.json is written from the documented model (docs/fidelity.md). No metrics are collected here,
so an alarm's state (OK, ALARM, INSUFFICIENT_DATA) moves only when a test moves it through
/_emulator/maas/alarms; each move is a transition of the alarm, and a move to ALARM an execution of each of
its actions (the e-mail it would send)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from ...engine import clock
from ...engine.errors import invalid
from ...gateway.context import Ctx
from ...store import Row, Store
from ..product import PKind, Product, path_of

PRODUCT = Product(
    name="maas",
    spec_name="maas",
    config_name="",  # not a product of the IONOS config file (sdk-go-bundle fileconfiguration)
    host="api.ionos.com",
    privilege="accessAndManageMonitoring",
)
PRODUCTS = [PRODUCT]

STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
INITIAL_STATE = "INSUFFICIENT_DATA"  # no samples yet (guess: the documented metrics start with none)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DEFAULTS = {"unit": "TOTAL", "comparisonOperator": "GREATER_THAN", "range": 120, "rangeAggregation": "AVERAGE"}
DEFAULTS["alarmDelay"] = 0


def _name(props: dict) -> None:
    if not str(props.get("name") or "").strip():
        raise invalid("properties.name", "must not be null or blank")  # the documented rule


def check_action(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    _name(props)
    if props.get("type") != "EMAIL":
        raise invalid("properties.type", "must be of a valid type (EMAIL)")
    email = str((props.get("typeProperties") or {}).get("emailTo") or "")
    if not EMAIL.match(email):
        raise invalid(
            "properties.typeProperties.emailTo", "must be a well-formed email address that is not null or blank"
        )
    return props


def check_alarm(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    _name(props)
    expr = {**DEFAULTS, **(props.get("expression") or {})}
    if ctx.store.find(ctx.tenant, "server", str(expr.get("source"))) is None:
        raise invalid("properties.expression.source", f"names no server of the contract ('{expr.get('source')}')")
    for action in props.get("actions") or ():
        if ctx.store.get(ctx.tenant, ACTION.name, "", str(action)) is None:
            raise invalid("properties.actions", f"names no action ('{action}')")
    out = {**props, "expression": expr, "actions": list(props.get("actions") or ())}
    out.setdefault("enabled", True)
    out.pop("state", None)  # read-only: it is the alarm's, moved by its metric (here: /_emulator)
    return out


def alarm_view(ctx: Ctx, row: Row) -> dict:
    return {**row.props, "state": row.x.get("state", INITIAL_STATE)}


ACTION = PKind(PRODUCT, "action", "action", "actions", absolute_href=True, prepare=check_action)
ALARM = PKind(PRODUCT, "alarm", "alarm", "alarms", absolute_href=True, prepare=check_alarm, view=alarm_view)
EXECUTION = PKind(PRODUCT, "execution", "execution", "executions", parent=ACTION, absolute_href=True, stateless=True)
TRANSITION = PKind(PRODUCT, "transition", "transition", "transitions", parent=ALARM, absolute_href=True, stateless=True)


def move(store: Store, tenant: int, alarm_id: str, state: str, now: float) -> dict[str, Any]:
    """An alarm's state moves (a test standing in for its metric): a transition, and on ALARM an execution of each
    of its actions. Returns the alarm's properties as the API renders them."""
    row = store.get(tenant, ALARM.name, "", alarm_id)
    if row is None:
        raise LookupError(f"contract {tenant} has no alarm {alarm_id}")
    before = row.x.get("state", INITIAL_STATE)
    when = clock.iso_precise(now)
    with store.tx():
        if state != before:
            _child(store, TRANSITION.name, row, {"from": before, "to": state, "time": when}, when)
            if state == "ALARM" and row.props.get("enabled", True):
                for action_id in row.props.get("actions") or ():
                    action = store.get(tenant, ACTION.name, "", action_id)
                    if action is not None:
                        email = (action.props.get("typeProperties") or {}).get("emailTo", "")
                        props = {"alarmId": alarm_id, "state": state, "emailTo": email, "time": when}
                        _child(store, EXECUTION.name, action, props, when)
        row.x["state"] = state
        store.update(row)
    return {**row.props, "state": state}


def _child(store: Store, kind_name: str, parent: Row, props: dict, when: str) -> None:
    kind = TRANSITION if kind_name == TRANSITION.name else EXECUTION
    rid = str(uuid.uuid4())
    meta = {"createdDate": when, "lastModifiedDate": when}
    store.insert(
        Row(
            tenant=parent.tenant,
            kind=kind.name,
            id=rid,
            parent=parent.id,
            path=path_of(kind, parent, rid),
            doc={"properties": props, "metadata": meta},
        )
    )
