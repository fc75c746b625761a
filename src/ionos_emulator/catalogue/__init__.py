"""The real cloud's public catalogue, kept as data files beside this module (one JSON file per product).

Each file names where its facts come from (its `sources`, and a `source` on entries that differ); facts no
public source shows are marked there as guesses (README.md). `load` is the one reader: it returns a fresh copy
each time, so a caller can never change the catalogue through what it got."""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def _parsed(name: str) -> Any:
    return json.loads(resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8"))


def load(name: str) -> Any:
    """The data file `<name>.json` of this package, parsed (a deep copy)."""
    return copy.deepcopy(_parsed(name))
