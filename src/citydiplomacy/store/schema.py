"""Tables of the store (SQLAlchemy Core). The Alembic migrations in ``migrations/``
create exactly these; a test compares the two."""

from __future__ import annotations

from sqlalchemy import (JSON, BigInteger, Boolean, Column, Float, ForeignKey, Index, Integer, MetaData,
                        String, Table, Text, false, func, text)

metadata = MetaData()

import_runs = Table(
    "import_runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("source", Text),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32)),
    Column("status", String(16), nullable=False),
    Column("software_version", String(32)),
    Column("summary", JSON),
)

provenance = Table(
    "provenance", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", Text, nullable=False),
    Column("url", Text),
    Column("licence", Text, nullable=False),
    Column("as_of", String(10)),
    Column("note", Text),
    Column("run_id", Integer, ForeignKey("import_runs.id"), nullable=False),
)

actors = Table(
    "actors", metadata,
    Column("id", String(128), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("layer", String(8), nullable=False),
    Column("country", String(3)),
    Column("lat", Float),
    Column("lon", Float),
    Column("population", Integer),
    Column("wikidata", String(16)),
    Column("geonames_id", Integer),
    Column("admin1", Text),
    Column("founded", Integer),
    Column("axes", String(64), nullable=False, server_default=""),
    # how prominent the actor is, for ranking search results (see search.py)
    Column("importance", Float, nullable=False, server_default="0"),
    Column("attrs", JSON),
    Column("provenance_id", Integer, ForeignKey("provenance.id"), nullable=False),
    Index("ix_actors_kind", "kind"),
    Index("ix_actors_layer", "layer"),
    # the engagement register's layer filter probes each party's layer (revision 0010)
    Index("ix_actors_id_layer", "id", "layer"),
    Index("ix_actors_country", "country"),
    Index("ix_actors_wikidata", "wikidata"),
    Index("ix_actors_geonames_id", "geonames_id"),
)

aliases = Table(
    "aliases", metadata,
    Column("id", Integer, primary_key=True),
    Column("actor_id", String(128), ForeignKey("actors.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("norm", Text, nullable=False),
    Column("lang", String(16)),
    Column("provenance_id", Integer, ForeignKey("provenance.id"), nullable=False),
    Index("ix_aliases_norm", "norm"),
    Index("ix_aliases_actor", "actor_id"),
)

ties = Table(
    "ties", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(128), ForeignKey("actors.id", ondelete="CASCADE"), nullable=False),
    Column("target", String(128), nullable=False),
    # 'actor' or 'framework': a tie may point at a framework (party_to paris)
    Column("target_type", String(16), nullable=False, server_default="actor"),
    Column("type", String(32), nullable=False),
    Column("since", String(10)),
    Column("until", String(10)),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("axes", String(64), nullable=False, server_default=""),
    Column("weight", Float),
    Column("note", Text),
    Column("provenance_id", Integer, ForeignKey("provenance.id"), nullable=False),
    # revision 0005: facts of the tie that have no column of their own
    Column("attrs", JSON),
    Index("ix_ties_source_type", "source", "type"),
    Index("ix_ties_target_type", "target", "type"),
    Index("ix_ties_type", "type"),
)
# one tie per (source, target, type, start): re-importing the same tie changes nothing
Index("ux_ties_key", ties.c.source, ties.c.target, ties.c.type, func.coalesce(ties.c.since, ""),
      unique=True)

frameworks = Table(
    "frameworks", metadata,
    Column("id", String(32), primary_key=True),
    Column("name", JSON, nullable=False),
    Column("attrs", JSON),
    Column("provenance_id", Integer, ForeignKey("provenance.id"), nullable=False),
)

framework_items = Table(
    "framework_items", metadata,
    Column("code", String(64), primary_key=True),
    Column("framework", String(32), ForeignKey("frameworks.id", ondelete="CASCADE"),
           nullable=False),
    Column("level", String(16), nullable=False),
    Column("parent", String(64)),
    Column("ordinal", Integer, nullable=False, server_default="0"),
    Column("attrs", JSON),
    Column("provenance_id", Integer, ForeignKey("provenance.id"), nullable=False),
    Index("ix_framework_items_parent", "parent"),
    Index("ix_framework_items_framework_level", "framework", "level"),
)

framework_titles = Table(
    "framework_titles", metadata,
    Column("code", String(64), ForeignKey("framework_items.code", ondelete="CASCADE"),
           primary_key=True),
    Column("lang", String(16), primary_key=True),
    Column("title", Text, nullable=False),
    Column("short", Text),
)

# --- revision 0002: initiatives, their alignments, and observations ---

initiatives = Table(
    "initiatives", metadata,
    Column("id", Integer, primary_key=True),
    Column("actor_id", String(128), ForeignKey("actors.id", ondelete="CASCADE"), nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False, server_default=""),
    Column("axes", String(64), nullable=False, server_default=""),
    Column("since", String(10)),
    Column("until", String(10)),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("partners", JSON),
    Column("provenance_id", Integer, ForeignKey("provenance.id"), nullable=False),
    Index("ix_initiatives_actor", "actor_id"),
)

alignments = Table(
    "alignments", metadata,
    Column("initiative_id", Integer, ForeignKey("initiatives.id", ondelete="CASCADE"),
           primary_key=True),
    Column("item_code", String(64), ForeignKey("framework_items.code", ondelete="CASCADE"),
           primary_key=True),
    Column("score", Float, nullable=False),
    Column("method", String(32)),
    Column("evidence", JSON),
)

observations = Table(
    "observations", metadata,
    Column("id", Integer, primary_key=True),
    Column("actor_id", String(128), ForeignKey("actors.id", ondelete="CASCADE"), nullable=False),
    Column("indicator", String(128), nullable=False),
    Column("year", Integer, nullable=False),
    Column("value", Float, nullable=False),
    Column("unit", String(64)),
    Column("provenance_id", Integer, ForeignKey("provenance.id"), nullable=False),
    Index("ux_observations_key", "actor_id", "indicator", "year", unique=True),
)

# --- revision 0003: accounts (users, API tokens, web sessions), audit log, login throttling ---
# These tables are the observatory's own bookkeeping, not data about city diplomacy: they
# are never exported, and rebuilding the dataset (``citydip init --force``) keeps them.

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    # Argon2id, in the PHC string format ($argon2id$v=19$m=...,t=...,p=...$salt$hash)
    Column("password_hash", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=false()),
    Index("ux_users_name", "name", unique=True),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("label", Text, nullable=False),
    # SHA-256 (hex) of the secret: the secret itself is shown once and never stored
    Column("token_hash", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("last_used_at", String(32)),
    Column("revoked_at", String(32)),
    Index("ux_api_tokens_token_hash", "token_hash", unique=True),
    Index("ix_api_tokens_user", "user_id"),
)

web_sessions = Table(
    "web_sessions", metadata,
    # SHA-256 (hex) of the session id held in the browser's cookie
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Index("ix_web_sessions_user", "user_id"),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", String(32), nullable=False),
    # a name, not a foreign key: the log outlives the accounts it mentions
    Column("user_name", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", Text, nullable=False, server_default=""),
    Column("detail", JSON),
    # revision 0006: where the write came from: cli, web, api or python (null: before 0006)
    Column("channel", String(16)),
    Index("ix_audit_log_user_name", "user_name"),
)

login_failures = Table(
    "login_failures", metadata,
    Column("id", Integer, primary_key=True),
    # "name:<user name>" or "client:<address>"
    Column("key", String(200), nullable=False),
    Column("at", String(32), nullable=False),
    Index("ix_login_failures_key", "key"),
)

# --- revision 0004: composite indices (derived: rebuilt by `citydip index build`) ---
# The results of each build, keyed by the build's run (its framework, choices and counts
# are in the run's summary); revision 0008: several builds side by side (index_builds).

index_scores = Table(
    "index_scores", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("import_runs.id"), nullable=False),
    Column("actor_id", String(128), ForeignKey("actors.id", ondelete="CASCADE"), nullable=False),
    # NULL: the current snapshot; a year: that year of a panel build
    Column("year", Integer),
    # sustainability, digital, engagement or overall
    Column("axis", String(16), nullable=False),
    Column("score", Float),
    Column("rank", Float),
    Column("rank_median", Float),
    Column("rank_lo", Float),
    Column("rank_hi", Float),
    # why the actor is not scored (score NULL)
    Column("reason", Text),
    # revision 0008: (actor, run) — a profile reads one city's rows of one build — and
    # (run, axis, year): a ranking reads one build's rows
    Index("ix_index_scores_actor", "actor_id", "run_id"),
    Index("ix_index_scores_axis_year", "axis", "year"),
    Index("ix_index_scores_run", "run_id", "axis", "year"),
)

index_values = Table(
    "index_values", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("import_runs.id"), nullable=False),
    Column("actor_id", String(128), ForeignKey("actors.id", ondelete="CASCADE"), nullable=False),
    Column("year", Integer),
    Column("indicator", String(64), nullable=False),
    # the measured value (NULL: missing) and the normalised one that entered the score
    Column("raw", Float),
    Column("value", Float),
    Column("imputed", Boolean, nullable=False, server_default=false()),
    # revision 0008: a city's strengths and weaknesses compare it within one build
    Index("ix_index_values_actor", "actor_id", "run_id"),
    Index("ix_index_values_run", "run_id", "indicator", "year"),
)

# --- revision 0008: named index builds, one of them published ---
# Each build of the indices is named after what it was built from (see
# citydiplomacy.indices.builds): the framework and the hash of its content, the years, the
# options, the store's data version; a person may give it a name of their own (label).
# Exactly one build is published: what the web and the API show unless asked for another.

index_builds = Table(
    "index_builds", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("import_runs.id"), nullable=False, unique=True),
    # the stable default name, e.g. shipped-1a2b3c4d-snapshot-n1000-s0-d57
    Column("name", String(200), nullable=False, unique=True),
    # a name a person gave it (optional)
    Column("label", String(64), unique=True),
    # "shipped" or the YAML file's path; the SHA-256 of its content (NULL: built before 0008)
    Column("framework", Text, nullable=False),
    Column("framework_hash", String(64)),
    # "2015-2025" (a panel), NULL (the snapshot)
    Column("years", String(200)),
    # the choices given at build time: replications, seed
    Column("options", JSON),
    # the store's latest data run (an import, an edit, the dataset's build) the build read
    Column("data_version", Integer),
    Column("built_at", String(32), nullable=False),
    Column("published", Boolean, nullable=False, server_default=false()),
    Column("published_at", String(32)),
    # at most one published build, whatever writes to the store
    Index("ux_index_builds_published", "published", unique=True,
          sqlite_where=text("published = 1"), postgresql_where=text("published")),
)

# --- revision 0009: the engagement register (citydiplomacy.engage) ---
# International engagement as activity: agreements, visits, event participation,
# declarations and pledges, joint projects. Each engagement has parties (actors on any
# layer, each with a role and, for a declaration, the date it signed), documents,
# follow-ups and its alignment with the frameworks; an agreement may establish, renew or
# end a tie, and the link is kept both ways (engagement_ties here, the tie's
# attrs.engagements there).

engagements = Table(
    "engagements", metadata,
    Column("id", Integer, primary_key=True),
    # a stable key: the shipped data's id ("mufpp"), a user's own reference, or one derived
    # from kind, title, date and parties; re-importing the same key updates, never duplicates
    Column("key", String(200), nullable=False, unique=True),
    # agreement, visit, event, declaration, project, or a kind a user adds (lower case)
    Column("kind", String(32), nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False, server_default=""),
    # partial dates (YYYY, YYYY-MM, YYYY-MM-DD)
    Column("signed_on", String(10)),
    Column("start_on", String(10)),
    Column("end_on", String(10)),
    # the next renewal or review date
    Column("review_on", String(10)),
    # where it happened: an actor (a city) when resolved, and the place as written
    Column("place_id", String(128), ForeignKey("actors.id", ondelete="SET NULL")),
    Column("place", Text),
    # planned, active, completed, suspended, ended
    Column("status", String(16), nullable=False, server_default="active"),
    Column("axes", String(64), nullable=False, server_default=""),
    Column("outcomes", Text),
    Column("attrs", JSON),
    Column("updated_at", String(32)),
    Column("provenance_id", Integer, ForeignKey("provenance.id"), nullable=False),
    # revision 0010: what a listing sorts and pages by, kept with the row by every writer
    # (engage.model.sort_keys): the start, else signing, else end date (NULL: undated), and
    # the title folded for sorting (accents dropped, case folded)
    Column("sort_date", String(10)),
    Column("title_key", String(200)),
    # the layers of its parties as bits (macro 1, meso 2, micro 4: store.rows.LAYER_BITS),
    # so that the layer filter is an index lookup rather than a probe of every party
    Column("party_layers", Integer, nullable=False, server_default="0"),
    Index("ix_engagements_status", "status"),
    Index("ix_engagements_signed_on", "signed_on"),
    Index("ix_engagements_start_on", "start_on"),
    Index("ix_engagements_review_on", "review_on"),
    # a page of the register read in order from an index (revision 0010)
    Index("ix_engagements_sort_date", "sort_date", "id"),
    Index("ix_engagements_title_key", "title_key", "id"),
    Index("ix_engagements_kind_status_date", "kind", "status", "sort_date", "id"),
    Index("ix_engagements_kind_title", "kind", "title_key", "id"),
    Index("ix_engagements_updated_at", "updated_at", "id"),
    Index("ix_engagements_party_layers", "party_layers", "kind"),
)

engagement_parties = Table(
    "engagement_parties", metadata,
    Column("engagement_id", Integer, ForeignKey("engagements.id", ondelete="CASCADE"),
           primary_key=True),
    Column("actor_id", String(128), ForeignKey("actors.id", ondelete="CASCADE"),
           primary_key=True),
    # signatory, host, visitor, lead, partner, organiser, participant
    Column("role", String(32), primary_key=True),
    # when this party signed or joined (a declaration's signatories sign at different dates)
    Column("signed_on", String(10)),
    Column("attrs", JSON),
    # each party's own source (a signatory list's page), or the engagement's
    Column("provenance_id", Integer, ForeignKey("provenance.id"), nullable=False),
    Index("ix_engagement_parties_actor", "actor_id", "engagement_id"),
)

engagement_documents = Table(
    "engagement_documents", metadata,
    Column("id", Integer, primary_key=True),
    Column("engagement_id", Integer, ForeignKey("engagements.id", ondelete="CASCADE"),
           nullable=False),
    Column("title", Text, nullable=False),
    # a link (url) or a stored file (name, media type, SHA-256, its extracted text)
    Column("url", Text),
    Column("filename", Text),
    Column("media_type", String(128)),
    Column("sha256", String(64)),
    Column("text", Text),
    Column("added_at", String(32)),
    Index("ix_engagement_documents_engagement", "engagement_id"),
)

engagement_followups = Table(
    "engagement_followups", metadata,
    Column("id", Integer, primary_key=True),
    Column("engagement_id", Integer, ForeignKey("engagements.id", ondelete="CASCADE"),
           nullable=False),
    Column("text", Text, nullable=False),
    Column("due_on", String(10)),
    # open, done, dropped
    Column("status", String(16), nullable=False, server_default="open"),
    Column("done_on", String(10)),
    Index("ix_engagement_followups_engagement", "engagement_id"),
    Index("ix_engagement_followups_due", "due_on"),
)

engagement_alignments = Table(
    "engagement_alignments", metadata,
    Column("engagement_id", Integer, ForeignKey("engagements.id", ondelete="CASCADE"),
           primary_key=True),
    Column("item_code", String(64), ForeignKey("framework_items.code", ondelete="CASCADE"),
           primary_key=True),
    Column("score", Float, nullable=False),
    Column("method", String(32)),
    Column("evidence", JSON),
    Index("ix_engagement_alignments_item", "item_code"),
)

engagement_ties = Table(
    "engagement_ties", metadata,
    Column("engagement_id", Integer, ForeignKey("engagements.id", ondelete="CASCADE"),
           primary_key=True),
    Column("tie_id", Integer, ForeignKey("ties.id", ondelete="CASCADE"), primary_key=True),
    # establishes, renews, ends
    Column("effect", String(16), nullable=False),
    Index("ix_engagement_ties_tie", "tie_id"),
)

#: The store's data versions (revision 0011, citydiplomacy.store.versions): a counter per
#: scope ("all", "structure", "actor:<id>") that every write raises in its own transaction,
#: so that every process keeps its caches of reads by what the database says.
data_versions = Table(
    "data_versions", metadata,
    Column("scope", String(200), primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("changed_at", String(32)),
    # what changed since a version a process knows: a range of this index
    Index("ix_data_versions_version", "version"),
)

# --- revision 0012: documents aligned in bulk (citydip align FOLDER --store) ---
# A corpus's documents (a city's Voluntary Local Review, its council reports), each linked
# to the actor it is about, with the SDG goals and targets and the Paris articles it
# serves: the rows of the Parquet results of a bulk alignment (align/bulk.py), loaded into
# the store. One document per (actor, document_id): the bulk id is a hash of the file's
# path and bytes, so loading the same results again, or a resumed run's, changes nothing.

aligned_documents = Table(
    "aligned_documents", metadata,
    Column("id", Integer, primary_key=True),
    Column("actor_id", String(128), ForeignKey("actors.id", ondelete="CASCADE"), nullable=False),
    # the bulk alignment's id: 16 hex digits of SHA-256 over the path and the bytes
    Column("document_id", String(32), nullable=False),
    # the path relative to the corpus folder, with /
    Column("path", Text, nullable=False),
    Column("lang", String(16)),
    Column("method", String(32)),
    Column("n_passages", Integer),
    # why it could not be aligned (a scan without text): then it has no items
    Column("error", Text),
    # the axes it was aligned to (comma-separated, as initiatives.axes)
    Column("axes", String(64), nullable=False, server_default=""),
    # SHA-256 of its rows as loaded: the same rows loaded again are "unchanged"
    Column("digest", String(64), nullable=False),
    # source file, results folder, as-of date and the run that loaded it
    Column("provenance_id", Integer, ForeignKey("provenance.id"), nullable=False),
    Index("ux_aligned_documents_key", "actor_id", "document_id", unique=True),
    Index("ix_aligned_documents_document", "document_id"),
)

aligned_document_items = Table(
    "aligned_document_items", metadata,
    Column("document_id", Integer, ForeignKey("aligned_documents.id", ondelete="CASCADE"),
           primary_key=True),
    Column("item_code", String(64), ForeignKey("framework_items.code", ondelete="CASCADE"),
           primary_key=True),
    # the document's score for the item: the best calibrated score of its paragraphs
    Column("score", Float, nullable=False),
    # paragraphs that report the item, and their share of the aligned paragraphs
    Column("passages", Integer),
    Column("share", Float),
    # where the best paragraph is (p. 12 ¶3) and its evidence
    Column("ref", Text),
    Column("evidence", JSON),
    Index("ix_aligned_document_items_item", "item_code"),
)

#: Tables that hold accounts and their history rather than data: kept by Store.clear().
ACCOUNT_TABLES = frozenset({"users", "api_tokens", "web_sessions", "audit_log", "login_failures"})
#: Tables Store.clear() keeps: the accounts, and the data versions (they go on rising, so
#: that a process that cached reads of the store before it was rebuilt sees the change)
KEPT_TABLES = ACCOUNT_TABLES | {"data_versions"}
