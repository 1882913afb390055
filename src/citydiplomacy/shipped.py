"""The files shipped in ``citydiplomacy/data``, read without the store or the dataset
builders (the one-text alignment path imports only this): paths, YAML (with libyaml's
C parser where PyYAML has it) and the SDG texts."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

#: the languages of the shipped SDG texts
SDG_LANGS = ("en", "fr", "es", "de", "ru", "ar", "zh-Hans")
_KEY = re.compile(r"^(\d+)(?:-([0-9a-z]+))?(?:-([0-9a-z]+))?-(title|short)$")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def data_path(*parts: str):
    """A file shipped in ``citydiplomacy/data``."""
    return resources.files("citydiplomacy").joinpath("data", *parts)


def read_yaml(fh) -> Any:
    """The YAML document of an open file (the safe loader: plain data only)."""
    return yaml.load(fh, Loader=_LOADER)


def load_yaml(*parts: str) -> Any:
    with data_path(*parts).open(encoding="utf-8") as fh:
        return read_yaml(fh)


@lru_cache(maxsize=1)
def sdg_texts() -> dict[str, dict[str, dict[str, str]]]:
    """The SDG goal, target and indicator texts shipped in ``data/sdg``:
    ``{"sdg:11.6": {"en": {"title": ..., "short": ...}, "fr": ...}}`` (read once)."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for lang in SDG_LANGS:
        for part in ("global_goals", "global_targets", "global_indicators"):
            path = data_path("sdg", lang, f"{part}.yml")
            if not path.is_file():
                continue
            with path.open(encoding="utf-8") as fh:
                entries = read_yaml(fh) or {}
            for key, text in entries.items():
                m = _KEY.match(str(key))
                if not m or not text:
                    continue
                code = "sdg:" + ".".join(p for p in m.groups()[:3] if p)
                out.setdefault(code, {}).setdefault(lang, {})[m.group(4)] = str(text).strip()
    return out
