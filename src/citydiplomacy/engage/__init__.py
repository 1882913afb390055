"""The engagement register: agreements and memoranda, visits and delegations, events
taken part in, declarations and pledges signed, joint projects — each with its parties
and their roles, dates, status, documents, follow-ups and provenance, aligned with the
SDGs and the Paris Agreement when written (see docs/engage.md).

- :mod:`.model` — the vocabulary (:class:`Engagement`, :class:`Party`, kinds, roles, statuses);
- :mod:`.register` — write (atomic, idempotent by key), read, list with filters, delete;
- :mod:`.views` — an actor's timeline and activity, what is due;
- :mod:`.ties` — agreements that establish, renew or end a tie, linked both ways;
- :mod:`.io` — import from CSV/Excel and iCalendar, export to CSV and iCalendar.
"""

from __future__ import annotations

from .model import (FOLLOWUP_STATUSES, KINDS, ROLES, STATUSES, TIE_EFFECTS, Document, Engagement, Followup,
                    Party, derive_key)
from .register import (SORTS, ImportRejected, add_engagement, delete_engagement, engagement_of, get_engagement,
                       list_engagements, write_engagements)
from .views import activity, due, timeline

__all__ = ["KINDS", "ROLES", "STATUSES", "FOLLOWUP_STATUSES", "TIE_EFFECTS", "SORTS", "Engagement", "Party",
           "Document", "Followup", "derive_key", "ImportRejected", "add_engagement", "write_engagements",
           "delete_engagement", "engagement_of", "get_engagement", "list_engagements", "timeline", "due",
           "activity", "import_engagements", "export_csv", "export_ics", "read_ics", "read_rows"]


def __getattr__(name: str):
    if name in ("import_engagements", "export_csv", "export_ics", "read_ics", "read_rows"):
        from . import io

        return getattr(io, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
