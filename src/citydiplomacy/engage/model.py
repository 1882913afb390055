"""The engagement register's vocabulary: an engagement (an agreement, a visit, an event
taken part in, a declaration signed, a joint project), its parties with their roles, its
documents and follow-ups.

The models validate what a person or a file gives; the store keeps the same fields
(``store.schema``, revision 0009; the sort keys of revision 0010: :func:`sort_keys`)."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from typing import Any

from pydantic import Field, field_validator, model_validator

from ..dates import check_order
from ..model import _axes, _date, _Model
from ..text import slugify
from ..vocab import Axis, TieType

__all__ = ["KINDS", "ROLES", "STATUSES", "FOLLOWUP_STATUSES", "TIE_EFFECTS", "DEFAULT_ROLE",
           "Engagement", "Party", "Document", "Followup", "derive_key", "parse_tie", "digest", "title_key",
           "sort_keys"]

#: the kinds of engagement; a user may add another (a plain lower-case word such as "grant")
KINDS = ("agreement", "visit", "event", "declaration", "pledge", "project")
#: what a party does in an engagement
ROLES = ("signatory", "host", "visitor", "lead", "partner", "organiser", "participant")
STATUSES = ("planned", "active", "completed", "suspended", "ended")
FOLLOWUP_STATUSES = ("open", "done", "dropped")
#: what an agreement does to the tie between its two parties
TIE_EFFECTS = ("establishes", "renews", "ends")
#: the tie types an agreement may establish, renew or end
TIE_TYPES = (TieType.TWINNED_WITH.value, TieType.PARTNER_OF.value)
#: the role of a party given without one
DEFAULT_ROLE = {"agreement": "signatory", "declaration": "signatory", "pledge": "signatory", "visit": "participant",
                "event": "participant", "project": "partner"}

_WORD = re.compile(r"^[a-z][a-z_]{1,31}$")
_KEY = re.compile(r"^\S(.{0,198}\S)?$")


def _choice(value: Any, allowed: tuple[str, ...], what: str) -> str:
    v = str(value).strip().lower()
    if v not in allowed:
        raise ValueError(f"unknown {what} '{value}'; choose one of: {', '.join(allowed)}")
    return v


class Party(_Model):
    """An actor taking part in an engagement, in a role (a declaration's signatory may
    have signed at its own date)."""

    actor: str = Field(min_length=1, description="actor id")
    role: str = "participant"
    signed_on: str | None = None

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, v):
        return "participant" if v in (None, "") else _choice(v, ROLES, "role")

    @field_validator("signed_on", mode="before")
    @classmethod
    def _signed(cls, v):
        return _date(v, "signed_on")


class Document(_Model):
    """A document of an engagement: a link, or a stored file with its extracted text
    (aligned with the engagement)."""

    title: str = Field(min_length=1)
    url: str | None = None
    filename: str | None = None
    media_type: str | None = None
    sha256: str | None = None
    text: str | None = None


class Followup(_Model):
    """Something to do after an engagement, with its due date."""

    text: str = Field(min_length=1)
    due_on: str | None = None
    status: str = "open"
    done_on: str | None = None

    @field_validator("due_on", "done_on", mode="before")
    @classmethod
    def _dates(cls, v, info):
        return _date(v, info.field_name)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v):
        return "open" if v in (None, "") else _choice(v, FOLLOWUP_STATUSES, "follow-up status")


def parse_tie(value: Any) -> tuple[str, str] | None:
    """``"establishes twinned_with"`` (or ``establishes:twinned_with``) → (effect, tie type)."""
    if value in (None, ""):
        return None
    if isinstance(value, (tuple, list)) and len(value) == 2:
        parts = [str(x) for x in value]
    else:
        parts = [p for p in re.split(r"[\s:=]+", str(value).strip().lower()) if p]
    if len(parts) != 2 or parts[0] not in TIE_EFFECTS or parts[1] not in TIE_TYPES:
        raise ValueError(f"'{value}' does not say what the agreement does to a tie; write an effect "
                         f"({', '.join(TIE_EFFECTS)}) and a tie type ({', '.join(TIE_TYPES)}), "
                         "e.g. 'establishes twinned_with'")
    return parts[0], parts[1]


class Engagement(_Model):
    """One engagement: an agreement or memorandum, a visit or delegation, an event taken
    part in, a declaration or pledge signed, a joint project or programme.

    ``kind`` is one of :data:`KINDS` or a kind a user adds: a plain lower-case word
    (letters and ``_``, 2–32 characters). ``status`` defaults to ``active``. An end before
    the start (or before the signing) is an error. ``tie`` = (effect, type): what the
    engagement does to the tie between its two parties, e.g. ("establishes",
    "twinned_with")."""

    key: str | None = None
    kind: str
    title: str = Field(min_length=1)
    text: str = ""
    signed_on: str | None = None
    start_on: str | None = None
    end_on: str | None = None
    review_on: str | None = None
    place: str | None = None
    place_id: str | None = None
    status: str = "active"
    axes: list[Axis] = Field(default_factory=list)
    outcomes: str | None = None
    parties: list[Party] = Field(default_factory=list)
    documents: list[Document] = Field(default_factory=list)
    followups: list[Followup] = Field(default_factory=list)
    tie: tuple[str, str] | None = None
    attrs: dict[str, Any] = Field(default_factory=dict)

    @field_validator("key", mode="before")
    @classmethod
    def _key(cls, v):
        if v in (None, ""):
            return None
        v = str(v).strip()
        if not _KEY.match(v):
            raise ValueError(f"'{v[:60]}' is not a usable key; up to 200 characters, no line breaks, "
                             "no spaces at either end")
        if v.lower() in RESERVED_KEYS or v.lower().endswith(("/edit", "/delete")):
            raise ValueError(f"'{v}' names a page of the register (/engagements/{v}), not an engagement; "
                             "choose another key or leave it empty for one made from kind, date and title")
        return v

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, v):
        k = str(v or "").strip().lower()
        if not k:
            raise ValueError(f"say what kind of engagement this is: {', '.join(KINDS)} (or a word of your own)")
        if k not in KINDS and not _WORD.match(k):
            raise ValueError(f"unknown kind '{v}'; use {', '.join(KINDS)}, or a kind of your own as one "
                             "lower-case word (letters and _)")
        return k

    @field_validator("signed_on", "start_on", "end_on", "review_on", mode="before")
    @classmethod
    def _dates(cls, v, info):
        return _date(v, info.field_name)

    @field_validator("end_on")
    @classmethod
    def _order(cls, v, info):
        start = info.data.get("start_on") or info.data.get("signed_on")
        try:
            check_order(start, v)
        except Exception:
            raise ValueError(f"ends ({v}) before it starts ({start}); check the dates") from None
        return v

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v):
        return "active" if v in (None, "") else _choice(v, STATUSES, "status")

    @field_validator("axes", mode="before")
    @classmethod
    def _axes(cls, v):
        return _axes(v)

    @field_validator("tie", mode="before")
    @classmethod
    def _tie(cls, v):
        return parse_tie(v)

    @field_validator("place", "outcomes", mode="before")
    @classmethod
    def _blank(cls, v):
        return None if v is None or str(v).strip() == "" else v

    @model_validator(mode="after")
    def _check(self):
        seen = set()
        for p in self.parties:
            if (p.actor, p.role) in seen:
                raise ValueError(f"party '{p.actor}' is listed twice as {p.role}")
            seen.add((p.actor, p.role))
        if self.tie is not None and len({p.actor for p in self.parties}) != 2:
            raise ValueError(f"an engagement that {self.tie[0]} a tie needs exactly two parties "
                             f"(it has {len({p.actor for p in self.parties})})")
        if self.key is None:
            object.__setattr__(self, "key", derive_key(self))
        return self

    @property
    def date(self) -> str | None:
        """When it happened or was signed (start, else signing)."""
        return self.start_on or self.signed_on

    def default_role(self) -> str:
        return DEFAULT_ROLE.get(self.kind, "participant")


#: Keys that are the register's own pages and routes (``/engagements/due``, ``/engagements/new``,
#: ``/api/v1/engagements.csv`` …): an engagement so named could not be reached by its URL.
RESERVED_KEYS = frozenset({"due", "new", "edit", "delete", "import", "export", "activity", "timeline"})


def derive_key(e: Engagement) -> str:
    """A stable key from kind, title, date and the sorted party ids:
    ``agreement-2019-05-08-memorandum-on-urban-mobility-3f2a9c1d``."""
    ids = sorted({p.actor for p in e.parties})
    h = hashlib.sha1(json.dumps([e.kind, e.title, e.date, ids], ensure_ascii=False).encode()).hexdigest()[:8]
    parts = [e.kind, e.date or "", slugify(e.title)[:60].strip("-"), h]
    return "-".join(p for p in parts if p)


def digest(e: Engagement) -> str:
    """A fingerprint of what a person wrote (not what the store adds: alignment, axes
    filled from it): same digest, nothing to write."""
    data = e.model_dump(mode="json", exclude={"attrs"})
    data["parties"] = sorted((p["actor"], p["role"], p["signed_on"] or "") for p in data["parties"])
    data["attrs"] = {k: v for k, v in e.attrs.items() if k not in ("digest", "engagements", "row", "file", "axes_aligned")}
    return hashlib.sha1(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def title_key(title: str | None) -> str:
    """The title as the register sorts it: accents dropped, case folded, spaces collapsed,
    at most 200 characters (``"Été  urbain"`` → ``"ete urbain"``); stored with the row
    (``engagements.title_key``) so that a page sorted by title is read from an index."""
    text = unicodedata.normalize("NFKD", title or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return re.sub(r"\s+", " ", text).strip()[:200]


def sort_keys(row: dict[str, Any]) -> dict[str, Any]:
    """The derived columns every writer of an ``engagements`` row stores with it (revision
    0010): ``sort_date`` — start, else signing, else end date (None: undated) — and
    ``title_key`` (:func:`title_key`)."""
    return {"sort_date": row.get("start_on") or row.get("signed_on") or row.get("end_on"),
            "title_key": title_key(row.get("title"))}
