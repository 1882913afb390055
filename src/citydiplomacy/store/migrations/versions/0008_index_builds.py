"""index builds: several named builds of the indices side by side, one published

Adds ``index_builds`` (one row per build: its stable name, an optional name a person gave
it, the framework and its hash, the years, the options, the data version, whether it is
the published one) and indexes that read one build's scores and values. The build a store
holds from before (the latest ``index`` run with scores: each build replaced the previous
one) becomes a named build, ``<framework>-run<id>-<years>-n<replications>-s<seed>-d<data
version>`` (its framework's content is no longer known, so no hash), and is published.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 12:30:00.000000
"""
import json
import re

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

#: the write runs of the builds themselves, which change no data
NOT_DATA = ("index", "index-publish", "index-remove")


def _slug(framework: str) -> str:
    # the same rule as citydiplomacy.indices.builds.framework_slug, frozen here
    if not framework or framework.startswith("shipped"):
        return "shipped"
    stem = re.split(r"[\\/]", framework)[-1].rsplit(".", 1)[0]
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:40] or "framework"


def _years(years) -> str | None:
    if not years:
        return None
    years = sorted(int(y) for y in years)
    if years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])
    return ".".join(map(str, years))


def upgrade() -> None:
    op.create_table('index_builds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('label', sa.String(length=64), nullable=True),
    sa.Column('framework', sa.Text(), nullable=False),
    sa.Column('framework_hash', sa.String(length=64), nullable=True),
    sa.Column('years', sa.String(length=200), nullable=True),
    sa.Column('options', sa.JSON(), nullable=True),
    sa.Column('data_version', sa.Integer(), nullable=True),
    sa.Column('built_at', sa.String(length=32), nullable=False),
    sa.Column('published', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('published_at', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['import_runs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('label')
    )
    with op.batch_alter_table('index_builds', schema=None) as batch_op:
        batch_op.create_index('ux_index_builds_published', ['published'], unique=True,
                              sqlite_where=sa.text('published = 1'), postgresql_where=sa.text('published'))
    # with several builds a query names its build: (actor, run) finds one city's rows of one
    # build (the actor alone would read them in every build, and SQLite would rather scan
    # the build's rows by run), (run, axis, year) one build's ranking
    with op.batch_alter_table('index_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_index_scores_actor')
        batch_op.create_index('ix_index_scores_actor', ['actor_id', 'run_id'], unique=False)
        batch_op.create_index('ix_index_scores_run', ['run_id', 'axis', 'year'], unique=False)
    with op.batch_alter_table('index_values', schema=None) as batch_op:
        batch_op.drop_index('ix_index_values_actor')
        batch_op.create_index('ix_index_values_actor', ['actor_id', 'run_id'], unique=False)
        batch_op.create_index('ix_index_values_run', ['run_id', 'indicator', 'year'], unique=False)

    conn = op.get_bind()
    runs = conn.execute(sa.text(
        "SELECT id, source, finished_at, started_at, summary FROM import_runs WHERE kind = 'index' "
        "AND status = 'ok' AND EXISTS (SELECT 1 FROM index_scores s WHERE s.run_id = import_runs.id) "
        "ORDER BY id")).fetchall()
    builds = sa.table('index_builds', sa.column('run_id', sa.Integer), sa.column('name', sa.String),
                      sa.column('framework', sa.Text), sa.column('years', sa.String),
                      sa.column('options', sa.JSON), sa.column('data_version', sa.Integer),
                      sa.column('built_at', sa.String), sa.column('published', sa.Boolean),
                      sa.column('published_at', sa.String))
    rows = []
    for k, run in enumerate(runs):
        summary = run.summary
        if isinstance(summary, str):
            summary = json.loads(summary)
        summary = summary or {}
        framework = "shipped" if summary.get("framework") in (None, "shipped") else str(summary["framework"])
        uc = summary.get("uncertainty") or {}
        n = int(summary.get("replications") or 0)
        seed = uc.get("seed")
        data = conn.execute(sa.text(
            "SELECT max(id) FROM import_runs WHERE id < :run AND kind NOT IN "
            "('index', 'index-publish', 'index-remove')"), {"run": run.id}).scalar()
        years = _years(summary.get("years"))
        name = "-".join([_slug(framework), f"run{run.id}", years or "snapshot", f"n{n}",
                         f"s{seed}" if seed is not None else "s-", f"d{data or 0}"])
        last = k == len(runs) - 1
        rows.append({"run_id": run.id, "name": name, "framework": framework, "years": years,
                     "options": {"replications": n, "seed": seed}, "data_version": data,
                     "built_at": run.finished_at or run.started_at, "published": last,
                     "published_at": (run.finished_at or run.started_at) if last else None})
    if rows:
        op.bulk_insert(builds, rows)


def downgrade() -> None:
    # before 0008 a store held one build, the latest index run's: keep that one's results
    op.execute("DELETE FROM index_values WHERE run_id <> coalesce((SELECT max(id) FROM import_runs "
               "WHERE kind = 'index' AND status = 'ok'), -1)")
    op.execute("DELETE FROM index_scores WHERE run_id <> coalesce((SELECT max(id) FROM import_runs "
               "WHERE kind = 'index' AND status = 'ok'), -1)")
    with op.batch_alter_table('index_values', schema=None) as batch_op:
        batch_op.drop_index('ix_index_values_run')
        batch_op.drop_index('ix_index_values_actor')
        batch_op.create_index('ix_index_values_actor', ['actor_id'], unique=False)
    with op.batch_alter_table('index_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_index_scores_run')
        batch_op.drop_index('ix_index_scores_actor')
        batch_op.create_index('ix_index_scores_actor', ['actor_id'], unique=False)
    op.drop_table('index_builds')
