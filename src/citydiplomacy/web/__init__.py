"""The observatory on the web: a REST API under ``/api/v1`` and the browser pages, both
thin faces over the library (see :mod:`citydiplomacy.observatory`).

    >>> from citydiplomacy.web import create_app
    >>> app = create_app(home="~/cd-home")            # doctest: +SKIP

``citydip serve`` runs it with uvicorn (:func:`citydiplomacy.web.serve.run`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import fastapi

__all__ = ["create_app"]


def create_app(*, home: Any = None, path: Any = None, read_only: bool = False,
               secure_cookies: bool | None = None, secret: str | bytes | None = None) -> "fastapi.FastAPI":
    """The web application over the store at ``path`` / in ``home`` (see
    :func:`citydiplomacy.open`); see :func:`citydiplomacy.web.app.create_app`."""
    from .app import create_app as _create

    return _create(home=home, path=path, read_only=read_only, secure_cookies=secure_cookies, secret=secret)
