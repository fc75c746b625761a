"""Document collections (the native API): a collection's documents are embedded when they are written,
chunked as the collection says, and a query ranks them by cosine similarity to the query's embedding (the
best chunk of each document counts). Collections and documents are written at once (no state to poll)."""

from __future__ import annotations

import base64
import binascii
import dataclasses
from typing import Any

from ...engine import errors
from ...engine.resources import create_row, load_chain, update_row
from ...gateway.context import Ctx, Reply
from ...store import Row
from ..product import PKind, load, page, render
from . import embedding
from .model import CATALOGUE, HUB, model

CHUNK_SIZE, CHUNK_OVERLAP = 512, 50  # a collection's chunking when it names none (a guess)


def _collection_defaults(ctx: Ctx, parent: Row | None, props: dict, old: Row | None) -> dict:
    """What a collection that leaves them out gets: chunking on, the default embedding model, pgvector; its
    embedding model cannot change once documents were embedded with it."""
    props = {k: v for k, v in props.items() if k != "documentsCount"}
    chunking = props.setdefault("chunking", {"enabled": True})
    chunking.setdefault("enabled", True)
    config = chunking.setdefault("strategy", {}).setdefault("config", {})
    config.setdefault("chunk_size", CHUNK_SIZE)
    config.setdefault("chunk_overlap", CHUNK_OVERLAP)
    if config["chunk_overlap"] >= config["chunk_size"]:
        raise errors.invalid("properties.chunking.strategy.config.chunk_overlap", "must be less than chunk_size")
    name = props.setdefault("embedding", {}).setdefault("model", CATALOGUE["default_embedding"])
    model(name, "embedding", "properties.embedding.model")
    props.setdefault("engine", {}).setdefault("db_type", "pgvector")
    if old is not None and old.props["embedding"]["model"] != name and _documents(ctx, old):
        raise errors.unprocessable("the embedding model of a collection with documents cannot be changed")
    return props


def _documents(ctx: Ctx, collection: Row) -> list[Row]:
    return ctx.store.list(ctx.tenant, DOCUMENT.name, collection.id, scope=ctx.api.location)


def _collection_view(ctx: Ctx, row: Row) -> dict:
    return {**row.props, "documentsCount": ctx.store.count(ctx.tenant, DOCUMENT.name, row.id)}


def _text(props: dict, attr: str = "properties.content") -> str:
    try:
        return base64.b64decode(props["content"], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise errors.invalid(attr, "must be base64-encoded UTF-8 text") from None


def _embed_document(ctx: Ctx, collection: Row | None, props: dict, old: Row | None) -> dict:
    """A document's chunks, embedded with its collection's model, kept beside it (never rendered)."""
    assert collection is not None  # documents live in a collection
    text = _text(props)
    config = collection.props["chunking"]
    size, overlap = config["strategy"]["config"]["chunk_size"], config["strategy"]["config"]["chunk_overlap"]
    parts = embedding.chunks(text, size, overlap) if config["enabled"] else [text]
    dims = model(collection.props["embedding"]["model"], "embedding")["dimensions"]
    return {**props, "vectors": [embedding.pack(embedding.embed(p, dims)) for p in parts]}


COLLECTION = PKind(
    HUB,
    "collection",
    "collection",
    "collections",
    stateless=True,
    absolute_href=True,
    prepare=_collection_defaults,
    view=_collection_view,
)
DOCUMENT = PKind(
    HUB,
    "document",
    "document",
    "documents",
    parent=COLLECTION,
    stateless=True,
    absolute_href=True,
    prepare=_embed_document,
    internal=("vectors",),
)


def _collection(ctx: Ctx) -> Row:
    return load_chain(ctx, [(COLLECTION, "collectionId")])[0]


def _listed(ctx: Ctx, collection: Row, rows: list[Row]) -> Reply:
    out = page(ctx, DOCUMENT, rows, f"{collection.path}/documents")
    return Reply(200, out)


@HUB.handler("documentsPost")
def add_documents(ctx: Ctx) -> Reply:
    """Adds the documents of `items`, all or none (one transaction)."""
    collection = _collection(ctx)
    for item in ctx.body["items"]:
        if item.get("id") and ctx.store.get(ctx.tenant, DOCUMENT.name, collection.id, item["id"]) is not None:
            raise errors.conflict(f"the collection already has a document '{item['id']}'")
    with DOCUMENT.style.change(ctx, DOCUMENT, collection) as ch:
        rows = [create_row(ctx, DOCUMENT, collection, ch, id=item.get("id"), body=item) for item in ctx.body["items"]]
    return Reply(200, {**_listed(ctx, collection, rows).body, "offset": 0, "limit": len(rows)})


@HUB.handler("documentsPut")
def update_documents(ctx: Ctx) -> Reply:
    """Replaces the documents `items` names by id; an id the collection does not have is a 404, and nothing
    changes."""
    collection = _collection(ctx)
    rows = []
    with DOCUMENT.style.change(ctx, DOCUMENT, collection) as ch:
        for item in ctx.body["items"]:
            row = load(ctx, DOCUMENT, item["id"], collection)
            update_row(dataclasses.replace(ctx, body=item), DOCUMENT, collection, row, ch, replace=True)
            rows.append(row)
    return Reply(200, {**_listed(ctx, collection, rows).body, "offset": 0, "limit": len(rows)})


@HUB.handler("documentsDeleteAll")
def delete_documents(ctx: Ctx) -> Reply:
    collection = _collection(ctx)
    with DOCUMENT.style.change(ctx, DOCUMENT, collection) as ch:
        for row in _documents(ctx, collection):
            ch.deleting(DOCUMENT, row)
    return Reply(204)


@HUB.handler("collectionsQuery")
def query(ctx: Ctx) -> Reply:
    """The collection's documents most similar to the query, best first (`limit` of them)."""
    collection = _collection(ctx)
    dims = model(collection.props["embedding"]["model"], "embedding")["dimensions"]
    wanted = embedding.embed(ctx.body["query"], dims)
    scored: list[tuple[float, int, Row]] = []
    for row in _documents(ctx, collection):
        best = max((embedding.cosine(wanted, embedding.unpack(v)) for v in row.x.get("vectors") or []), default=0.0)
        scored.append((best, -row.seq, row))
    scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
    limit = ctx.body.get("limit", 10)
    matches: list[dict[str, Any]] = [
        {"score": round(score, 6), "document": render(ctx, DOCUMENT, row)} for score, _, row in scored[:limit]
    ]
    out = {"id": collection.id, "type": "collection", "href": ctx.href(f"{collection.path}/query")}
    return Reply(200, {**out, "properties": {"matches": matches}})
