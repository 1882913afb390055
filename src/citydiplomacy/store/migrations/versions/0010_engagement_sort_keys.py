"""engagement sort keys: a stored date and title key, and the indexes a listing reads

Adds three columns to ``engagements``, filled from what each row holds:

- ``sort_date``: the date the register sorts and pages by (start, else signing, else end
  date; NULL when undated);
- ``title_key``: the title folded for sorting (accents dropped, case folded, spaces
  collapsed, at most 200 characters), so "Été", "ete" and "ETE" sort together;
- ``party_layers``: the layers of its parties as bits (macro 1, meso 2, micro 4), so that
  the layer filter reads an index instead of probing every engagement's parties;

and the indexes that let a listing read one page in order instead of sorting every
matching row: (sort_date, id), (title_key, id), (kind, status, sort_date, id) — which
replaces the index on kind alone — (kind, title_key, id), (updated_at, id),
(party_layers, kind), and (id, layer) on ``actors`` (a partner's layer, with an actor,
is probed).

Portable: plain ADD COLUMN and CREATE INDEX; the backfill is one UPDATE for the date, one
for the layers (a sum of CASE WHEN EXISTS) and batched UPDATEs by id for the title key
(computed here, as the library does, since SQL's lower() folds only ASCII letters in
SQLite). No row is added or removed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 17:45:00.000000
"""
import re
import unicodedata

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BATCH = 5_000


def _title_key(title):
    # the same rule as citydiplomacy.engage.model.title_key, frozen here
    text = unicodedata.normalize("NFKD", title or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return re.sub(r"\s+", " ", text).strip()[:200]


def upgrade() -> None:
    op.add_column('engagements', sa.Column('sort_date', sa.String(length=10), nullable=True))
    op.add_column('engagements', sa.Column('title_key', sa.String(length=200), nullable=True))
    op.add_column('engagements', sa.Column('party_layers', sa.Integer(), server_default='0', nullable=False))
    op.execute("UPDATE engagements SET sort_date = coalesce(start_on, signed_on, end_on)")
    # the same expression as citydiplomacy.store.rows.party_layers_expr, frozen here
    op.execute("UPDATE engagements SET party_layers = " + " + ".join(
        f"(CASE WHEN EXISTS (SELECT 1 FROM engagement_parties p JOIN actors a ON a.id = p.actor_id "
        f"WHERE p.engagement_id = engagements.id AND a.layer = '{layer}') THEN {bit} ELSE 0 END)"
        for layer, bit in (('macro', 1), ('meso', 2), ('micro', 4))))
    conn = op.get_bind()
    e = sa.table('engagements', sa.column('id', sa.Integer), sa.column('title', sa.Text),
                 sa.column('title_key', sa.String))
    last = 0
    while True:
        rows = conn.execute(sa.select(e.c.id, e.c.title).where(e.c.id > last).order_by(e.c.id)
                            .limit(BATCH)).all()
        if not rows:
            break
        conn.execute(sa.update(e).where(e.c.id == sa.bindparam('row_id'))
                     .values(title_key=sa.bindparam('folded')),
                     [{"row_id": r.id, "folded": _title_key(r.title)} for r in rows])
        last = rows[-1].id
    op.drop_index('ix_engagements_kind', table_name='engagements')
    op.create_index('ix_engagements_sort_date', 'engagements', ['sort_date', 'id'], unique=False)
    op.create_index('ix_engagements_title_key', 'engagements', ['title_key', 'id'], unique=False)
    op.create_index('ix_engagements_kind_status_date', 'engagements', ['kind', 'status', 'sort_date', 'id'],
                    unique=False)
    op.create_index('ix_engagements_kind_title', 'engagements', ['kind', 'title_key', 'id'], unique=False)
    op.create_index('ix_engagements_updated_at', 'engagements', ['updated_at', 'id'], unique=False)
    op.create_index('ix_engagements_party_layers', 'engagements', ['party_layers', 'kind'], unique=False)
    op.create_index('ix_actors_id_layer', 'actors', ['id', 'layer'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_actors_id_layer', table_name='actors')
    for name in ('party_layers', 'updated_at', 'kind_title', 'kind_status_date', 'title_key', 'sort_date'):
        op.drop_index(f'ix_engagements_{name}', table_name='engagements')
    op.create_index('ix_engagements_kind', 'engagements', ['kind'], unique=False)
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.drop_column('party_layers')
        batch_op.drop_column('title_key')
        batch_op.drop_column('sort_date')
