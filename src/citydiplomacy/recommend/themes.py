"""Themes a recommendation can be asked for: an SDG goal or target (``11``, ``11.6``,
``sdg:11.6``), a Paris Agreement article (``paris:7``), an axis (``digital``), or free text
aligned by the alignment engine (:mod:`citydiplomacy.align`)."""

from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from ..errors import ValidationError
from ..vocab import Axis

__all__ = ["Theme", "parse_theme", "GOAL_AXES", "TARGET_AXES"]

#: the axis an SDG goal serves (sustainability unless listed): the goals of institutions
#: and partnerships serve international engagement, industry and innovation also digital
GOAL_AXES = {9: ("sustainability", "digital"), 16: ("engagement",), 17: ("engagement",)}
#: targets about information and communication technology serve the digital axis
TARGET_AXES = {"4.4": ("digital",), "5.b": ("digital",), "9.c": ("digital",), "16.10": ("digital",),
               "17.6": ("digital", "engagement"), "17.8": ("digital",)}

_SDG = re.compile(r"^(?:sdg\s*[: ]?\s*)?(\d{1,2})(?:\.(\w{1,2}))?$", re.I)
_PARIS = re.compile(r"^paris\s*[: ]?\s*(?:art(?:icle)?\.?\s*)?(\d{1,2})$", re.I)


@dataclass
class Theme:
    """What a theme asks for: framework codes (``sdg:11``, ``sdg:11.6``, ``paris:7``) and axes."""

    text: str
    label: str
    codes: list[str] = field(default_factory=list)
    axes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "label": self.label, "codes": self.codes, "axes": self.axes}


def parse_theme(store, theme: str | None) -> Theme | None:
    """The :class:`Theme` that ``theme`` names (None for none). An unknown SDG code or
    Paris article, or a text that aligns with nothing, is a :class:`ValidationError`."""
    if theme is None or not str(theme).strip():
        return None
    text = str(theme).strip()
    if text.lower() in {a.value for a in Axis}:
        axis = text.lower()
        return Theme(text, f"the {axis} axis", [], [axis])
    m = _SDG.match(text)
    if m:
        goal, target = int(m.group(1)), m.group(2)
        code = f"sdg:{goal}" + (f".{target.lower()}" if target else "")
        title = _title(store, code)
        if title is None:
            raise ValidationError(f"no SDG item '{code[4:]}'; give a goal (1-17) or a target such as 11.6 "
                                  "(see 'citydip framework sdg')", field="theme")
        axes = TARGET_AXES.get(code[4:]) or GOAL_AXES.get(goal, ("sustainability",))
        codes = [code] + ([f"sdg:{goal}"] if target else [])
        return Theme(text, f"SDG {code[4:]} ({title})", codes, list(axes))
    m = _PARIS.match(text)
    if m:
        code = f"paris:{int(m.group(1))}"
        title = _title(store, code)
        if title is None:
            raise ValidationError(f"no Paris Agreement article '{m.group(1)}'; give one such as paris:7 "
                                  "(see 'citydip framework paris')", field="theme")
        return Theme(text, f"Paris Agreement article {code[6:]} ({title})", [code], ["sustainability"])
    a = _aligned(text)
    codes = [f"sdg:{t}" for t in a.targets] + [f"sdg:{g}" for g in a.sdgs] + [f"paris:{p}" for p in a.paris]
    if not codes and not a.axes:
        raise ValidationError(f"the theme '{text}' matches no SDG, Paris article or axis; give an SDG code "
                              "such as 11.6, a Paris article such as paris:7, an axis (sustainability, "
                              "digital, engagement) or a longer description", field="theme")
    parts = ([f"SDG {', '.join(str(g) for g in a.sdgs)}"] if a.sdgs else []) + \
            ([f"Paris art. {', '.join(str(p) for p in a.paris)}"] if a.paris else [])
    axes = list(a.axes) or sorted({x for g in a.sdgs for x in GOAL_AXES.get(g, ("sustainability",))})
    return Theme(text, f"'{text}' (aligned: {'; '.join(parts) or ', '.join(axes)})", codes, axes)


@lru_cache(maxsize=256)
def _aligned(text: str):
    """The alignment of a theme's text (kept: the same theme is asked for again and again)."""
    from ..align import align

    return align(text)


def _title(store, code: str) -> str | None:
    from ..store.schema import framework_items, framework_titles

    with store.connect() as conn:
        if conn.execute(select(framework_items.c.code).where(framework_items.c.code == code)).first() is None:
            return None
        row = conn.execute(select(framework_titles.c.short, framework_titles.c.title).where(
            framework_titles.c.code == code, framework_titles.c.lang == "en")).first()
    if row is None:
        return code
    title = row.short or row.title
    return title if len(title) <= 80 else title[:77].rstrip() + "…"
