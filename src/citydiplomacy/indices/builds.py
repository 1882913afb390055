"""Named builds of the indices: several side by side, one of them published.

Each build is named after what it was computed from, so that the same inputs give the
same name and a name says how to build it again::

    shipped-1a2b3c4d-2015-2025-n1000-s0-d57
    │       │        │         │     │  └ the store's data version: its latest data run (an
    │       │        │         │     │    import, an edit, the default dataset's build)
    │       │        │         │     └ the Monte Carlo's seed
    │       │        │         └ its replications
    │       │        └ the years of a panel build ("snapshot": the store as it is)
    │       └ the first 8 hex digits of the SHA-256 of the framework's content
    └ the framework: "shipped" or the YAML file's name

A person may also give a build a name of their own (``label``); either name finds it. A
build with the same default name as an earlier one (same framework, options and data)
replaces it and keeps its published state and its label.

Exactly one build is *published*: what the web pages, the actor pages and the API show
unless a reader asks for another by name. The first build of a store is published; later
builds are published only when asked (``--publish``) or by :func:`publish_build`, which
is a write run of its own (kind ``index-publish``): the audit log records who switched,
from which build to which, and through which channel. This module is light (SQLAlchemy
only): every profile request reads the published build.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from ..errors import NotFoundError, ValidationError
from ..store import Store
from ..store.schema import import_runs, index_builds, index_scores, index_values

__all__ = ["NOT_DATA", "framework_slug", "framework_hash", "years_text", "parse_years", "default_name", "check_label",
           "data_version", "record_build", "find_build", "list_builds", "known_frameworks", "check_framework",
           "publish_build", "remove_build"]

#: the write runs of the builds themselves: they change no data, so no data version
NOT_DATA = ("index", "index-publish", "index-remove")

#: a name a person gives a build: letters, digits, dot, dash, underscore (it goes in URLs)
LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def framework_slug(framework: str | None) -> str:
    """``shipped``, or the YAML file's name in lower case with dashes (40 characters at most)."""
    if not framework or framework.startswith("shipped"):
        return "shipped"
    stem = re.split(r"[\\/]", framework)[-1].rsplit(".", 1)[0]
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:40] or "framework"


def framework_hash(fw: Any) -> str:
    """The SHA-256 (hex) of a framework's content (its units, indicators, pipeline and
    uncertainty choices as canonical JSON; not the file's path, comments or layout)."""
    content = fw.model_dump(mode="json", exclude={"path"})
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def years_text(years: list[int] | None) -> str | None:
    """``2015-2025`` for a range, ``2015.2018`` for other sets, None for the snapshot."""
    if not years:
        return None
    years = sorted(int(y) for y in years)
    if years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])
    return ".".join(map(str, years))


def parse_years(text: str | None) -> list[int] | None:
    """``2019`` or ``2015-2025`` as a list of years; None or empty: None (the snapshot)."""
    if text is None or not str(text).strip():
        return None
    m = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4})\s*)?", str(text))
    if not m:
        raise ValidationError(f"'{text}' is not a year or a range of years such as 2015-2025", field="years")
    a, b = int(m.group(1)), int(m.group(2) or m.group(1))
    if b < a:
        raise ValidationError(f"'{text}': the range ends before it starts", field="years")
    return list(range(a, b + 1))


def default_name(framework: str | None, fw_hash: str, years: list[int] | None, replications: int,
                 seed: int | None, data: int) -> str:
    """The stable name of a build (see the module's docstring)."""
    return "-".join([framework_slug(framework), fw_hash[:8], years_text(years) or "snapshot", f"n{replications}",
                     f"s{seed}" if seed is not None else "s-", f"d{data}"])


def check_label(label: str | None) -> str | None:
    """A build's own name, checked: None, or letters, digits, dots, dashes, underscores."""
    if label is None:
        return None
    label = label.strip()
    if not LABEL.fullmatch(label):
        raise ValidationError(f"'{label}' cannot name a build: use 1 to 64 letters, digits, dots, dashes or "
                              "underscores, starting with a letter or a digit (e.g. eu-2025)", field="name")
    return label


def data_version(conn: Connection) -> int:
    """The store's latest data run (the id of its latest write run that is not an index
    build's: an import, an edit, the default dataset's build): what a build read."""
    return conn.execute(select(func.max(import_runs.c.id)).where(
        import_runs.c.kind.not_in(NOT_DATA))).scalar() or 0


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


_COLUMNS = (index_builds.c.id, index_builds.c.run_id, index_builds.c.name, index_builds.c.label,
            index_builds.c.framework, index_builds.c.framework_hash, index_builds.c.years, index_builds.c.options,
            index_builds.c.data_version, index_builds.c.built_at, index_builds.c.published,
            index_builds.c.published_at)


def _as_dict(row) -> dict[str, Any]:
    d = dict(row._mapping)
    d["published"] = bool(d["published"])
    d["options"] = d["options"] or {}
    return d


def _by_ref(conn: Connection, ref: str):
    return conn.execute(select(*_COLUMNS).where(
        (index_builds.c.name == ref) | (index_builds.c.label == ref))).first()


def _published(conn: Connection):
    return conn.execute(select(*_COLUMNS).where(index_builds.c.published.is_(True))).first()


def _names(conn: Connection, n: int = 8) -> list[str]:
    return [r.label or r.name for r in conn.execute(
        select(index_builds.c.name, index_builds.c.label).order_by(index_builds.c.id.desc()).limit(n))]


def _not_found(conn: Connection, ref: str) -> NotFoundError:
    names = _names(conn)
    if not names:
        return NotFoundError(f"no index build named '{ref}': no index has been built in this store yet; "
                             "run citydip index build")
    return NotFoundError(f"no index build named '{ref}'; the builds: {', '.join(names)} "
                         "(all of them: citydip index builds)")


def check_label_free(conn: Connection, label: str | None, name: str) -> None:
    """A label must not name another build (by its name or its label)."""
    if label is None:
        return
    row = _by_ref(conn, label)
    if row is not None and row.name != name:
        raise ValidationError(f"a build is already named '{label}' ({row.name}); choose another name, or "
                              "remove that build (citydip index remove)", field="name")


def record_build(conn: Connection, run_id: int, *, framework: str, fw_hash: str, years: list[int] | None,
                 options: dict[str, Any], data: int, label: str | None = None,
                 publish: bool | None = None) -> dict[str, Any]:
    """Record run ``run_id``'s build inside the caller's transaction (before its rows are
    written). A build of the same default name is replaced (its rows deleted; it keeps its
    label and its published state). ``publish``: True publishes it, None publishes it only
    when no build is published yet (the store's first), False never.
    Returns ``{"name", "label", "published", "replaced"}``."""
    name = default_name(framework, fw_hash, years, int(options.get("replications") or 0),
                        options.get("seed"), data)
    check_label_free(conn, label, name)
    old = conn.execute(select(*_COLUMNS).where(index_builds.c.name == name)).first()
    was_published = bool(old is not None and old.published)
    if old is not None:
        label = label or old.label
        _delete(conn, old.run_id)
    current = _published(conn)
    now = _now()
    published = bool(publish) or was_published or (publish is None and current is None)
    if published and current is not None:
        conn.execute(update(index_builds).where(index_builds.c.id == current.id)
                     .values(published=False))
    conn.execute(insert(index_builds).values(
        run_id=run_id, name=name, label=label, framework=framework, framework_hash=fw_hash,
        years=years_text(years), options=options, data_version=data, built_at=now, published=published,
        published_at=now if published else None))
    return {"name": name, "label": label, "published": published,
            "replaced": old.name if old is not None else None,
            "previous": current.name if (published and current is not None and current.name != name) else None}


def _delete(conn: Connection, run_id: int) -> None:
    conn.execute(delete(index_values).where(index_values.c.run_id == run_id))
    conn.execute(delete(index_scores).where(index_scores.c.run_id == run_id))
    conn.execute(delete(index_builds).where(index_builds.c.run_id == run_id))


def find_build(store: Store, ref: str | None = None) -> dict[str, Any]:
    """A build by its name or its label, or (``ref`` None) the published one, with its
    run: ``run_id``, ``built_at``, ``source``, ``software_version``, ``summary`` and the
    build's ``name``, ``label``, ``published``, ``framework``, ``framework_hash``,
    ``years``, ``options``, ``data_version``."""
    with store.connect() as conn:
        row = _published(conn) if ref is None else _by_ref(conn, ref)
        if row is None:
            if ref is not None:
                raise _not_found(conn, ref)
            raise NotFoundError("no index has been built in this store yet: run citydip index build")
        run = conn.execute(select(import_runs.c.finished_at, import_runs.c.source, import_runs.c.software_version,
                                  import_runs.c.summary).where(import_runs.c.id == row.run_id)).first()
    d = _as_dict(row)
    d.pop("id")
    return {"run_id": d.pop("run_id"), "built_at": run.finished_at if run is not None else d["built_at"],
            "source": run.source if run is not None else None,
            "software_version": run.software_version if run is not None else None,
            "summary": (run.summary if run is not None else None) or {}, **d}


#: the light query of a profile: the published build's run (or a named build's)
_RUN_COLUMNS = (index_builds.c.run_id.label("id"), import_runs.c.finished_at, index_builds.c.name,
                index_builds.c.label, index_builds.c.published)
_PUBLISHED_RUN = (select(*_RUN_COLUMNS)
                  .join(import_runs, import_runs.c.id == index_builds.c.run_id)
                  .where(index_builds.c.published.is_(True)))
_NAMED_RUN = (select(*_RUN_COLUMNS)
              .join(import_runs, import_runs.c.id == index_builds.c.run_id)
              .where((index_builds.c.name == bindparam("ref")) | (index_builds.c.label == bindparam("ref"))))


def build_run(conn: Connection, ref: str | None = None):
    """(id, finished_at, name, label, published) of the published build's run, or of the build named
    ``ref``; None when there is none (``ref`` given and unknown: NotFoundError)."""
    if ref is None:
        return conn.execute(_PUBLISHED_RUN).first()
    row = conn.execute(_NAMED_RUN, {"ref": ref}).first()
    if row is None:
        raise _not_found(conn, ref)
    return row


def list_builds(store: Store) -> list[dict[str, Any]]:
    """Every build, newest first, with the number of cities it scored."""
    with store.connect() as conn:
        rows = conn.execute(select(*_COLUMNS, import_runs.c.summary)
                            .join(import_runs, import_runs.c.id == index_builds.c.run_id)
                            .order_by(index_builds.c.id.desc())).fetchall()
    out = []
    for r in rows:
        d = _as_dict(r)
        summary = d.pop("summary") or {}
        d.pop("id")
        d["scored"] = summary.get("scored")
        d["seconds"] = summary.get("seconds")
        out.append(d)
    return out


def known_frameworks(store: Store) -> list[str]:
    """The frameworks a build may be started with from the web: ``shipped`` and every
    framework file an earlier build read that is still on this machine (a person on the
    web never names a file of the server)."""
    from pathlib import Path

    with store.connect() as conn:
        used = [r[0] for r in conn.execute(select(index_builds.c.framework).distinct()
                                           .order_by(index_builds.c.framework))]
    return ["shipped"] + [f for f in used if f != "shipped" and Path(f).is_file()]


def check_framework(store: Store, framework: str | None) -> str | None:
    """``framework`` for a build started from the web: None (the shipped one) or the path
    of a framework an earlier build read; anything else is a ValidationError."""
    if framework in (None, "", "shipped"):
        return None
    known = known_frameworks(store)
    if framework not in known:
        raise ValidationError(f"'{framework}' is not a framework of this observatory; use one of "
                              f"{', '.join(known)} (another framework is built first with "
                              "citydip index build --config FILE)", field="framework")
    return framework


def publish_build(store: Store, ref: str) -> dict[str, Any]:
    """Make the build named ``ref`` the published one. A write run of its own (kind
    ``index-publish``), audited as ``index.publish`` with the previous build when someone
    is acting (:func:`~citydiplomacy.store.audit.acting_as`). Publishing the published
    build changes nothing. Returns ``{"name", "label", "previous", "changed"}``."""
    with store.transaction() as conn:
        row = _by_ref(conn, ref)
        if row is None:
            raise _not_found(conn, ref)
        current = _published(conn)
        if current is not None and current.id == row.id:
            return {"name": row.name, "label": row.label, "previous": row.name, "changed": False}
        run_id = store.start_run(conn, "index-publish", row.name)
        if current is not None:
            conn.execute(update(index_builds).where(index_builds.c.id == current.id).values(published=False))
        conn.execute(update(index_builds).where(index_builds.c.id == row.id)
                     .values(published=True, published_at=_now()))
        result = {"name": row.name, "label": row.label, "previous": current.name if current is not None else None,
                  "changed": True}
        store.finish_run(conn, run_id, {"build": row.name, "label": row.label, "previous": result["previous"]})
    return result


def remove_build(store: Store, ref: str) -> dict[str, Any]:
    """Delete the build named ``ref`` and its results (its run stays in the store's
    history). The published build cannot be removed: publish another one first."""
    with store.transaction() as conn:
        row = _by_ref(conn, ref)
        if row is None:
            raise _not_found(conn, ref)
        if row.published:
            raise ValidationError(f"'{ref}' is the published build: publish another one first "
                                  "(citydip index publish NAME)", field="build")
        run_id = store.start_run(conn, "index-remove", row.name)
        _delete(conn, row.run_id)
        store.finish_run(conn, run_id, {"build": row.name, "label": row.label})
    return {"name": row.name, "label": row.label}
