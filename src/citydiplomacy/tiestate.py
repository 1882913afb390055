"""When a tie is in force: its status and its dates, read at a date.

The one rule that profiles, the network, the indices, the maps, the API and the web
share, so that a suspended tie is never shown or counted as active anywhere.

Statuses (:class:`citydiplomacy.vocab.Status`):

- in force: ``active`` and ``dormant`` (a dormant partnership is still agreed and can be
  revived without a new agreement; a city's office wants to see it among its ties);
- not in force: ``proposed`` (not yet agreed), ``suspended`` (paused by one side or
  both, e.g. the partnerships with Russian and Belarusian cities since 2022) and
  ``ended``.

Dates are partial (``1957``, ``1957-03``, ``1957-03-25``) and compared at the coarser
precision of the two (``2022`` against ``2022-03-02`` compares ``2022`` with ``2022``):

- ``since`` is the first date in force: before it, the tie is ``not_begun``;
- ``attrs.suspended_since`` is the first date suspended: a suspended tie counts as
  ``active`` before it, so that ``--as-of 2021`` shows a partnership suspended in 2022;
- ``until`` is the last date in force: after it, the tie is ``ended``.

A status that does not say when (``suspended`` without ``suspended_since``, ``ended``
without ``until``) holds at every date from ``since`` on: nothing is guessed.
Without a date the state is the status itself: the status says where the tie stands now.
"""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["IN_FORCE", "NOT_BEGUN", "STATES", "in_force", "in_force_clause", "in_force_mask",
           "state_at", "state_of", "suspended_since"]

#: the statuses of a tie in force
IN_FORCE: frozenset[str] = frozenset({"active", "dormant"})
#: the state of a tie at a date before its ``since``
NOT_BEGUN = "not_begun"
#: every state :func:`state_at` returns
STATES = ("active", "dormant", "proposed", "suspended", "ended", NOT_BEGUN)


def _before(a: str, b: str) -> bool:
    """Is partial date ``a`` strictly before ``b``, at the coarser precision of the two?"""
    n = min(len(a), len(b))
    return a[:n] < b[:n]


def state_at(status: str, since: str | None = None, until: str | None = None,
             as_of: str | None = None, *, suspended_since: str | None = None) -> str:
    """The state of a tie at ``as_of`` (a partial date; ``None``: now): one of
    :data:`STATES`. See the module's docstring for the rule."""
    status = getattr(status, "value", status) or "active"
    if as_of is None:
        return status
    if since and _before(as_of, since):
        return NOT_BEGUN
    if until and _before(until, as_of):
        return "ended"
    if status == "suspended" or (suspended_since and status == "ended"):
        if suspended_since and _before(as_of, suspended_since):
            return "active"
        return "suspended"
    if status == "ended" and until:
        return "active"              # the dates say it was in force then
    return status


def in_force(status: str, since: str | None = None, until: str | None = None,
             as_of: str | None = None, *, suspended_since: str | None = None) -> bool:
    """Was the tie in force at ``as_of`` (now when ``None``)? Active or dormant then."""
    return state_at(status, since, until, as_of, suspended_since=suspended_since) in IN_FORCE


def suspended_since(attrs: Mapping[str, Any] | None) -> str | None:
    """The date a tie was suspended, from its ``attrs`` (``None`` when not given)."""
    return (attrs or {}).get("suspended_since") or None


def state_of(tie: Mapping[str, Any], as_of: str | None = None) -> str:
    """:func:`state_at` for a tie as a mapping (``status``, ``since``, ``until``, ``attrs``)."""
    return state_at(tie.get("status") or "active", tie.get("since"), tie.get("until"), as_of,
                    suspended_since=suspended_since(tie.get("attrs")))


def in_force_clause(status_column):
    """A SQL condition: the tie's status is in force now (for queries without a date)."""
    return status_column.in_(sorted(IN_FORCE))


def in_force_mask(frame, as_of: str | None = None):
    """:func:`in_force` over a pandas ``DataFrame`` with columns ``status``, ``since``,
    ``until`` and, optionally, ``suspended_since`` (missing values as ``None``/NaN/""):
    a boolean ``Series``, computed column-wise (the indices read every tie)."""
    import pandas as pd

    if frame.empty:
        return pd.Series(False, index=frame.index, dtype=bool)
    status = frame["status"].fillna("active").astype(str)
    if as_of is None:
        return status.isin(IN_FORCE)

    def text(column: str) -> pd.Series:
        if column not in frame:
            return pd.Series("", index=frame.index)
        return frame[column].fillna("").astype(str)

    def before(col: pd.Series, *, col_first: bool) -> pd.Series:
        """col < as_of (col_first) or as_of < col, at the coarser precision; False where empty."""
        out = pd.Series(False, index=col.index)
        for n in set(col.str.len()) - {0}:
            m = min(n, len(as_of))
            rows = col.str.len() == n
            a = col[rows].str[:m]
            out[rows] = (a < as_of[:m]) if col_first else (as_of[:m] < a)
        return out

    since, until, susp = text("since"), text("until"), text("suspended_since")
    not_begun = before(since, col_first=False)
    over = before(until, col_first=True)
    suspendable = (status == "suspended") | ((susp != "") & (status == "ended"))
    by_status = status.isin(IN_FORCE).where(~suspendable, before(susp, col_first=False))
    by_status = by_status.where(~((status == "ended") & ~suspendable), until != "")
    return (~not_begun & ~over & by_status).astype(bool)
