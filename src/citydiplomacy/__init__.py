"""citydiplomacy — the City Diplomacy Observatory.

>>> import citydiplomacy
>>> obs = citydiplomacy.open()          # the default store, built on first use
>>> obs.search("München")[0]["id"]
'munich-de'
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from .errors import CitydipError, NotFoundError, StoreError, ValidationError  # noqa: E402

if TYPE_CHECKING:
    from .observatory import Observatory, open  # noqa: F401


def __getattr__(name: str) -> Any:
    # the store is imported when first asked for: ``citydip align "..."`` never needs it
    if name in ("open", "Observatory"):
        from . import observatory
        return getattr(observatory, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["open", "Observatory", "CitydipError", "NotFoundError", "StoreError",
           "ValidationError", "__version__"]
