"""AI Model Hub (inference.de-txl.ionos.com) and its OpenAI-compatible API (openai.inference.de-txl.ionos.com/v1):
document collections with a real vector search, and models, chat completions, completions, embeddings and
images answered deterministically (model.py says more)."""

from __future__ import annotations

from . import collections, openai  # noqa: F401  (registering the handlers)
from .model import HUB, OPENAI_API

PRODUCTS = [HUB, OPENAI_API]
