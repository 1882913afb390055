"""citydiplomacy — the City Diplomacy Observatory.

>>> import citydiplomacy
>>> obs = citydiplomacy.open()          # the default store, built on first use
>>> obs.search("München")[0]["id"]
'munich-de'
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import CitydipError, NotFoundError, StoreError, ValidationError  # noqa: E402
from .observatory import Observatory, open  # noqa: E402

__all__ = ["open", "Observatory", "CitydipError", "NotFoundError", "StoreError",
           "ValidationError", "__version__"]
