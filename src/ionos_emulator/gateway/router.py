"""A segment trie built from a compiled spec's path templates: '/datacenters/{datacenterId}' etc."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote


class _Node:
    __slots__ = ("static", "param", "rest", "methods")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.param: _Node | None = None
        self.rest: _Node | None = None  # a last parameter that takes the rest of the path, slashes and all
        self.methods: dict[str, tuple[Any, list[str]]] = {}  # method -> (target, parameter names)


ROUTE_CACHE_SIZE = 4096  # distinct (method, path) matches remembered; cleared whole when full


class Router:
    def __init__(self) -> None:
        self.root = _Node()
        # (method, path) -> match: the trie never changes once built, so a match stays right
        self._matches: dict[tuple[str, str], tuple[Any, dict[str, str], list[str]]] = {}

    def add(self, method: str, template: str, target: Any, slash_params: frozenset[str] = frozenset()) -> None:
        """`slash_params`: parameters whose values clients send with unencoded '/' (as the last segment only)."""
        node, names = self.root, []
        segs = _split(template)
        for i, seg in enumerate(segs):
            if seg.startswith("{") and seg.endswith("}"):
                names.append(seg[1:-1])
                if i == len(segs) - 1 and seg[1:-1] in slash_params:
                    node.rest = node.rest or _Node()
                    node = node.rest
                    continue
                if node.param is None:
                    node.param = _Node()
                node = node.param
            else:
                node = node.static.setdefault(seg, _Node())
        node.methods[method.upper()] = (target, names)
        self._matches.clear()

    def match(self, method: str, path: str) -> tuple[Any, dict[str, str], list[str]]:
        """Returns (target or None, path params, allowed methods). Allowed is empty for an unknown path."""
        key = (method, path)
        found = self._matches.get(key)
        if found is None:
            if len(self._matches) >= ROUTE_CACHE_SIZE:
                self._matches.clear()
            found = self._matches[key] = self._match(method, path)
        target, params, allowed = found
        return target, dict(params), list(allowed)  # copies: a caller may change what it was given

    def _match(self, method: str, path: str) -> tuple[Any, dict[str, str], list[str]]:
        # Static segments win over parameters; a parameter never matches an empty segment.
        found = self._walk(self.root, _split(path), 0, [])
        if found is None:
            return None, {}, []
        node, values = found
        entry = node.methods.get(method.upper())
        if entry is None:
            return None, {}, sorted(node.methods)
        target, names = entry
        # matched on the raw (still percent-encoded) path, so an id may hold an encoded '/', e.g. "fra%2F2"
        return target, dict(zip(names, (unquote(v) for v in values), strict=True)), sorted(node.methods)

    def _walk(self, node: _Node, segs: list[str], i: int, values: list[str]) -> tuple[_Node, list[str]] | None:
        if i == len(segs):
            return (node, values) if node.methods else None
        seg = segs[i]
        nxt = node.static.get(seg)
        if nxt is not None:
            r = self._walk(nxt, segs, i + 1, values)
            if r is not None:
                return r
        if node.param is not None and seg:
            r = self._walk(node.param, segs, i + 1, values + [seg])
            if r is not None:
                return r
        if node.rest is not None and node.rest.methods and all(segs[i:]):
            return node.rest, values + ["/".join(segs[i:])]
        return None


def _split(path: str) -> list[str]:
    path = path.strip("/")
    return path.split("/") if path else []
