"""Filtering, ordering and paging of collections, shared by every API.

Order of operations, as ionosctl relies on it: maxResults truncation -> filters -> orderBy -> offset/limit.
Filters: `filter.<key>=<value>` is a case-insensitive "contains" on the property or metadata field named
by key (key case-insensitive); a comma means OR; several keys must all match; list values match if any
element matches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from starlette.datastructures import QueryParams

from .errors import ApiError

T = TypeVar("T")

INT32_MAX = 2**31 - 1  # offset is an int32 in the specs; beyond it the real services answer 422 (docs/fidelity.md)


def parse_filters(query: QueryParams) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in query.multi_items():
        if key.startswith("filter.") and len(key) > 7:
            out.setdefault(key[7:].lower(), []).extend(v.strip().lower() for v in value.split(",") if v.strip())
    return out


def _text(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _text(v)]
    if isinstance(value, dict):
        return [str(value.get("id", ""))] if "id" in value else []
    return [str(value).lower()]


def field(view: dict[str, Any], key: str) -> tuple[bool, Any]:
    """Finds `key` (lower-case) among properties, then metadata, then the top level."""
    for section in (view.get("properties") or {}, view.get("metadata") or {}, view):
        for k, v in section.items():
            if k.lower() == key:
                return True, v
    return False, None


def matches(view: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    for key, wanted in filters.items():
        found, value = field(view, key)
        if not found:
            return False
        texts = _text(value)
        if wanted and not any(w in t for w in wanted for t in texts):
            return False
    return True


def _sort_key(value: Any) -> tuple[int, str]:
    if value is None:
        return (0, "")
    if isinstance(value, bool):
        return (1, str(value).lower())
    if isinstance(value, (int, float)):
        return (1, f"{value:020.6f}" if value >= 0 else f"-{-value:019.6f}")
    return (1, str(value).lower())


def select(
    items: list[T],
    view: Callable[[T], dict[str, Any]],
    query: QueryParams,
    *,
    paginated: bool,
    default_limit: int = 1000,
    default_order: str | None = None,
) -> tuple[list[T], int | None, int | None, int]:
    """Returns (page, offset, limit, total after filtering). Offset and limit are None when not paginated;
    `default_order` is the orderBy of a request that sends none."""
    max_results = _int(query, "maxResults", None, minimum=0)
    if max_results is not None:
        items = items[:max_results]
    filters = parse_filters(query)
    if filters:
        items = [it for it in items if matches(view(it), filters)]
    order = query.get("orderBy") or query.get("order-by") or default_order
    if order:  # "-name": descending (Logging and Monitoring)
        key = order.lower()
        descending = key.startswith("-")
        key = key.lstrip("-")
        items = sorted(items, key=lambda it: _sort_key(field(view(it), key)[1]), reverse=descending)
    total = len(items)
    if not paginated:
        return items, None, None, total
    offset, limit = page_params(query, default_limit)
    return items[offset : offset + limit], offset, limit, total


def needs_scan(query: QueryParams) -> bool:
    """Whether the listing must look at every item (filters, ordering, maxResults) or can page in the store."""
    return any(k.startswith("filter.") or k in ("orderBy", "order-by", "maxResults") for k in query.keys())


def page_params(query: QueryParams, default_limit: int = 1000) -> tuple[int, int]:
    return (
        _int(query, "offset", 0, minimum=0, maximum=INT32_MAX),
        _int(query, "limit", default_limit, minimum=1, maximum=10000),
    )


def links(href: str, offset: int | None, limit: int | None, total: int) -> dict[str, str]:
    if offset is None or limit is None:  # an unpaginated collection: a link to itself
        return {"self": href}
    out = {"self": f"{href}?offset={offset}&limit={limit}"}
    if offset > 0:
        out["prev"] = f"{href}?offset={max(0, offset - limit)}&limit={limit}"
    if offset + limit < total:
        out["next"] = f"{href}?offset={offset + limit}&limit={limit}"
    return out


def _int(query: QueryParams, name: str, default: Any, *, minimum: int | None = None, maximum: int | None = None) -> Any:
    raw = query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, f"query parameter '{name}' must be an integer") from None
    if minimum is not None and value < minimum:
        raise ApiError(422, f"query parameter '{name}' must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ApiError(422, f"query parameter '{name}' must be at most {maximum}")
    return value


def chunks(it: Iterable[T], n: int) -> Iterator[list[T]]:
    buf: list[T] = []
    for x in it:
        buf.append(x)
        if len(buf) == n:
            yield buf
            buf = []
    if buf:
        yield buf
