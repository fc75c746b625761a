"""Text -> vectors and token counts without a language model, deterministic and documented
(docs/fidelity.md, "AI Model Hub"): no model runs here, so that client code paths are exercised for real
without one.

An embedding is feature hashing: each lower-cased word and each pair of neighbouring words adds +1 or -1
(by a hash) to one of `dimensions` coordinates (by another), and the vector is scaled to length 1. Texts that
share words point the same way, so cosine similarity ranks them as an embedding model would, roughly.
A token is a word or a single punctuation character."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct

_WORD = re.compile(r"\w+", re.UNICODE)
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def embed(text: str, dimensions: int) -> list[float]:
    words = [w.lower() for w in _WORD.findall(text)]
    features = [(w, 1.0) for w in words] + [(f"{a} {b}", 0.5) for a, b in zip(words, words[1:], strict=False)]
    vector = [0.0] * dimensions
    for feature, weight in features:
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "big") % dimensions
        vector[index] += weight if digest[4] & 1 else -weight
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0:  # no words: a fixed unit vector, so every text has a direction
        vector[0] = 1.0
        return vector
    return [v / norm for v in vector]


def cosine(a: list[float], b: list[float]) -> float:
    """Both are unit vectors: their dot product."""
    return sum(x * y for x, y in zip(a, b, strict=True))


def pack(vector: list[float]) -> str:
    """A vector as stored: float32, base64 (4 bytes a coordinate instead of a JSON number)."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def unpack(packed: str) -> list[float]:
    raw = base64.b64decode(packed)
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def chunks(text: str, size: int, overlap: int) -> list[str]:
    """Fixed-size chunks of characters, each overlapping the previous by `overlap` (at least one chunk)."""
    if size <= 0 or len(text) <= size:
        return [text]
    step = max(1, size - min(overlap, size - 1))
    return [text[i : i + size] for i in range(0, max(1, len(text) - overlap), step)]
