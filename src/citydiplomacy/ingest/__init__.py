"""Bringing data in: importers registered by name, atomic runs, reports and review.

An importer is a module under ``citydiplomacy.ingest`` that registers a function with
:func:`register`; the function reads its input and returns a :class:`Plan` (what would be
written, with the problems found); :func:`run_import` applies a plan in one transaction
(or rolls it back for a dry run) and returns a :class:`Report`.

Adding a format means adding a module that calls ``register`` — nothing else changes.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from .base import Plan, Problem, Report, ReviewRow  # noqa: F401

Importer = Callable[..., "Plan"]


def __getattr__(name: str) -> Any:
    # the model and the resolver load when first asked for: reading a file
    # (``ingest.readers``, as ``citydip align`` does) needs neither
    if name in ("Plan", "Problem", "Report", "ReviewRow"):
        from . import base
        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
_REGISTRY: dict[str, tuple[Importer, str]] = {}

#: Modules holding the built-in importers (imported on first use).
BUILTIN = ("twinning", "table", "wikidata", "datapackage", "review")


def register(name: str, summary: str) -> Callable[[Importer], Importer]:
    """Register an importer function under ``name`` (``citydip import NAME ...``)."""
    def deco(fn: Importer) -> Importer:
        _REGISTRY[name] = (fn, summary)
        return fn
    return deco


def importers() -> dict[str, str]:
    """Registered importers: name -> one-line summary."""
    _load_builtin()
    return {k: v[1] for k, v in sorted(_REGISTRY.items())}


def get_importer(name: str) -> Importer:
    from ..errors import ValidationError

    _load_builtin()
    if name not in _REGISTRY:
        raise ValidationError(f"no importer '{name}'; available: {', '.join(sorted(_REGISTRY))}",
                              field="format")
    return _REGISTRY[name][0]


def _load_builtin() -> None:
    for mod in BUILTIN:
        import_module(f"{__name__}.{mod}")


def run_import(store, name: str, source: Any, *, dry_run: bool = False, review: str | None = None,
               audit: tuple[str, str, str | None] | None = None, limits: Any = None,
               **options: Any) -> Report:
    """Read ``source`` with the importer ``name`` and apply the result atomically, within
    ``limits`` (a :class:`~citydiplomacy.limits.Limits` or a channel's name: its sizes,
    and its seconds for the whole run; default: the limits in force).

    ``audit`` = (who, what, channel): an applied import that changes the store is recorded
    in the audit log as who's ``import.apply`` of what, in the same transaction as its rows."""
    from contextlib import nullcontext

    from .. import limits as _limits
    from .. import progress
    from .apply import apply_plan
    from .review import original_of, write_review

    with _limits.applied(limits) if limits is not None else nullcontext():
        progress.report("reading and resolving the file")
        plan = get_importer(name)(store, source, **options)
        report = apply_plan(store, plan, dry_run=dry_run, audit=audit)
    if review and plan.review:
        # the review of a dry run writes the import's clean rows too: it keeps how to run it again
        original = original_of(name, source, options, dry_run=dry_run)
        report.review_file = str(write_review(review, plan, original))
        if dry_run and original:
            report.notes.append(f"`citydip import review {Path(review).name}` will write the rows that resolved "
                                "cleanly with the ones you finish (this dry run wrote nothing)")
    return report


__all__ = ["Plan", "Problem", "Report", "ReviewRow", "register", "importers", "get_importer",
           "run_import"]
