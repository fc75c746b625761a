"""Certificate Manager v1 (API 1.0 at api.ionos.com/certificatemanager, the spec cert-manager-v1.yaml; the
3.x SDK is the newer API): certificates only, uploaded with name, certificate, chain and private key, renamed
by PATCH. They are the same stored kind as the current API's (`certmanager.certificate`, checked the same way)
in the global scope the v1 API lives in; the private key is never rendered. Its info, and its own spec as
JSON and YAML (JSON is YAML too), are served at /certificatemanager, /openapi.json and /openapi.yaml."""

from __future__ import annotations

import json

from ... import spec as specs
from ...engine.resources import Kind, States
from ...gateway.context import Ctx, Reply
from ...spec import openapi
from ..dbaas import V1_CLUSTER_METADATA
from ..product import STYLE, Product
from . import PRIVILEGE, certificate_meta, uploaded

SPEC = "certmanager-v1"
BASE = "/certificatemanager"
PRODUCT = Product(name=SPEC, spec_name=SPEC, config_name="", host="api.ionos.com", path_base=BASE, privilege=PRIVILEGE)

# the metadata of ResourceMetadataDto: a v1 API's, with an etag
METADATA = (*V1_CLUSTER_METADATA, "etag")

CERTIFICATE = PRODUCT.registry.add(
    Kind(
        "certmanager.certificate",
        "certificate",
        "certificates",
        style=STYLE,
        states=States("PROVISIONING", "PROVISIONING", "DESTROYING", "AVAILABLE"),
        default_limit=100,
        prepare=lambda ctx, parent, props, old: uploaded(ctx, props, old),
        internal=("privateKey", "facts"),
        meta=certificate_meta,
        metadata_fields=METADATA,
        patchable=("name",),
    )
)


@PRODUCT.handler("getInfo")
def info(ctx: Ctx) -> Reply:
    return Reply(200, {"name": "Certificate Manager API", "version": specs.load(SPEC).version, "href": ctx.href("")})


def _document(ctx: Ctx) -> bytes:
    doc = openapi.document(specs.load(SPEC), ctx.base_url)
    return json.dumps(doc, indent=1).encode()


@PRODUCT.handler("getJsonOpenApiSpec")
def openapi_json(ctx: Ctx) -> Reply:
    return Reply(200, _document(ctx), content_type="application/json")


@PRODUCT.handler("getYamlOpenApiSpec")
def openapi_yaml(ctx: Ctx) -> Reply:
    return Reply(200, _document(ctx), content_type="application/yaml")
