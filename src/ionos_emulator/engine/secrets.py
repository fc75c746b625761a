"""What a request record keeps of a body: every password, secret, private key and token masked, by one
rule for every API (docs/fidelity.md, "Secrets in request records"). A property is a secret when its name
says so (`SECRET_NAME`) or when the operation's compiled spec marks it writeOnly; its value, unless null or
a plain flag or number, is replaced by `MASK` wherever it sits in the body (inside `properties`,
`entities`, lists of credentials)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

MASK = "*****"

# password, imagePassword, passwd, passphrase, secret, secretKey, clientSecret, privateKey, private_key,
# privKey, token, accessToken, apiKey, key (key material: a certificate's or a TSIG key's), keyValue
SECRET_NAME = re.compile(
    r"pass(word|wd|phrase)|secret|priv(ate)?_?key|token$|api_?key|^key$|^keyvalue$",
    re.IGNORECASE,
)


def is_secret(name: str, write_only: Iterable[str] = ()) -> bool:
    return bool(SECRET_NAME.search(name)) or name in write_only


def _mask(value: Any, write_only: frozenset[str]) -> tuple[Any, bool]:
    """The value with its secrets masked, and whether anything was."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        changed = False
        for k, v in value.items():
            if is_secret(k, write_only) and v is not None and not isinstance(v, (bool, int, float)):
                out[k], changed = MASK, True
            else:
                out[k], c = _mask(v, write_only)
                changed = changed or c
        return out, changed
    if isinstance(value, list):
        items = [_mask(v, write_only) for v in value]
        return [v for v, _ in items], any(c for _, c in items)
    return value, False


def masked_body(raw: bytes, write_only: frozenset[str] = frozenset()) -> str:
    """The body as the request record keeps it: as sent when it holds no secret (or is not JSON: zone
    files, plain text), otherwise the JSON again with each secret replaced by `MASK`."""
    text = raw.decode("utf-8", "replace")
    try:
        doc = json.loads(text)
        out, changed = _mask(doc, write_only)
    except ValueError:
        return text
    except RecursionError:  # JSON nested deeper than it can be read: its secrets could not be masked
        return "<a JSON body nested too deep to show>"
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False) if changed else text
