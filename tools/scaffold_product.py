"""Writes a new product package from a compiled spec: one `Product` (where it is served, from the servers the
spec lists) and one `PKind` per resource collection of its paths. The engine then serves every operation made
of those kinds (list, create, get, PUT, PATCH, delete) with no per-operation code; what is not plain CRUD
stays 501 until a handler is written for it.

    python tools/scaffold_product.py certmanager --config-name cert --privilege accessAndManageCertificates

writes src/ionos_emulator/apis/certmanager/__init__.py (refused if it exists, unless --force). The package is
found by apis/__init__.py as it is; the routed-only entry of the same spec then steps aside.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ionos_emulator import spec as specs  # noqa: E402
from ionos_emulator.apis.product import REGIONS, spec_locations  # noqa: E402


def kinds_of(spec: specs.Spec) -> list[tuple[tuple[str, ...], str]]:
    """(collection segments from the top, item parameter) for every collection whose items have an id in
    the paths: '/zones/{zoneId}/records/{recordId}' gives (('zones',), 'zoneId') and (('zones', 'records'),
    'recordId')."""
    found: dict[tuple[str, ...], str] = {}
    for op in spec.operations:
        segs = [s for s in op.path.strip("/").split("/") if s]
        chain: list[str] = []
        for i, seg in enumerate(segs):
            if seg.startswith("{"):
                continue
            nxt = segs[i + 1] if i + 1 < len(segs) else ""
            if not nxt.startswith("{"):
                if i + 1 < len(segs):  # an action or a sub-resource without an id: not a kind
                    break
                continue
            chain.append(seg)
            found.setdefault(tuple(chain), nxt[1:-1])
    return sorted(found.items(), key=lambda kv: (len(kv[0]), kv[0]))


def rendered_type(spec: specs.Spec, segments: tuple[str, ...], param: str) -> str:
    """The `type` the item is rendered with: the single value its schema allows, else the segment singular."""
    item_path = "/" + "/".join(f"{s}/{{x}}" for s in segments)
    for op in spec.operations:
        if op.method == "GET" and re.sub(r"\{[^}]+\}", "{x}", op.path) == item_path:
            schema = _resolve(spec, ((op.responses.get("200") or {}).get("schema")) or {})
            typ = _resolve(spec, (schema.get("properties") or {}).get("type") or {})
            if len(typ.get("enum") or []) == 1:
                return str(typ["enum"][0])
    return singular(segments[-1])


def _resolve(spec: specs.Spec, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec.schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema


def singular(word: str) -> str:
    for plural, one in (("ies", "y"), ("sses", "ss"), ("xes", "x"), ("s", "")):
        if word.endswith(plural):
            return word[: -len(plural)] + one
    return word


def constant(segment: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", singular(segment)).upper()


def render(spec_name: str, config_name: str, privilege: str | None) -> str:
    spec = specs.load(spec_name)
    hosts = [urlsplit(s["url"]).hostname or "" for s in spec.servers]
    locations = spec_locations(spec_name)
    host = hosts[0] if hosts else ""
    if locations:
        label = REGIONS[locations[0]]
        host = next((h for h in hosts if h.split(".")[1] == label), host).replace(f".{label}.", ".{region}.", 1)
    lines = [
        f'"""{spec_name}: scaffolded by tools/scaffold_product.py from the compiled spec {spec_name} ({spec.version}).',
        "",
        "Every operation made of the kinds below is served by the engine; the product's rules go into their hooks",
        '(engine/resources.py), and operations that are not plain CRUD get handlers with @PRODUCT.handler."""',
        "from __future__ import annotations",
        "",
        "from ..product import PKind, Product, spec_locations",
        "",
        f"PRODUCT = Product(name={spec_name!r}, spec_name={spec_name!r}, config_name={config_name!r},",
        f"                  locations=spec_locations({spec_name!r}) or ('',), host={host!r},",
        f"                  privilege={privilege!r})",
        "PRODUCTS = [PRODUCT]",
        "",
    ]
    names: dict[tuple[str, ...], str] = {}
    for segments, param in kinds_of(spec):
        name = constant(segments[-1])
        while name in names.values():
            name = constant("_".join(segments[-2:]))
        names[segments] = name
        parent = names.get(segments[:-1])
        stored = singular(segments[-1]).replace("-", "")
        args = [f"PRODUCT, {stored!r}, {rendered_type(spec, segments, param)!r}, {segments[-1]!r}"]
        if parent:
            args.append(f"parent={parent}")
        args.append("absolute_href=True")
        lines.append(f"{name} = PKind({', '.join(args)})")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("spec", help="a compiled spec in src/ionos_emulator/spec/data (without .json)")
    ap.add_argument("--config-name", help="product name in the IONOS config file (default: the spec name)")
    ap.add_argument("--privilege", help="group privilege a non-administrator needs (e.g. accessAndManageDns)")
    ap.add_argument("--package", help="package name under src/ionos_emulator/apis (default: the spec name)")
    ap.add_argument(
        "--into", type=Path, default=ROOT / "src" / "ionos_emulator" / "apis", help="folder to write the package into"
    )
    ap.add_argument("--force", action="store_true", help="overwrite an existing package")
    args = ap.parse_args(argv)
    package = args.into / (args.package or args.spec.replace("-", "_"))
    target = package / "__init__.py"
    if target.exists() and not args.force:
        print(f"{target} exists (use --force to overwrite)", file=sys.stderr)
        return 1
    package.mkdir(parents=True, exist_ok=True)
    target.write_text(render(args.spec, args.config_name or args.spec, args.privilege))
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
