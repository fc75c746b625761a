"""The AI Model Hub: its two APIs and their model catalogue.

- the native API at inference.<region>.ionos.com: document collections in a vector database
  (collections.py);
- the OpenAI-compatible API at openai.inference.<region>.ionos.com/v1: models, chat completions,
  completions, embeddings, image generation (openai.py).

Neither has an OpenAPI file from IONOS: their specs are written for the emulator (specs/ in the repository,
compiled by tools/compile_specs.py) and docs/fidelity.md says where each field comes from."""

from __future__ import annotations

from typing import Any

from ... import catalogue
from ...engine.errors import OPENAI, ApiError
from ..product import Product

HUB = Product(
    name="aimodelhub",
    spec_name="aimodelhub",
    config_name="aimodelhub",
    locations=("de/txl",),
    host="inference.{region}.ionos.com",
)
OPENAI_API = Product(
    name="openai",
    spec_name="openai",
    config_name="openai",
    locations=("de/txl",),
    host="openai.inference.{region}.ionos.com",
    errors=OPENAI,
)

CATALOGUE: dict[str, Any] = catalogue.load("aimodelhub")
MODELS: dict[str, dict[str, Any]] = {m["id"]: m for m in CATALOGUE["models"]}


def model(name: str, kind: str, attr: str = "model") -> dict[str, Any]:
    """The catalogue entry of a model the request names, which must be of `kind` (chat, embedding, image)."""
    entry = MODELS.get(name)
    if entry is None:
        raise ApiError(404, f"The model '{name}' does not exist", "model_not_found")
    if entry["kind"] != kind:
        raise ApiError(400, f"attribute '{attr}': the model '{name}' is not a {kind} model", "invalid_model")
    return entry
