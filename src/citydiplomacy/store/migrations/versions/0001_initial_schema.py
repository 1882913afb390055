"""initial schema: provenance, import runs, actors, aliases, ties, frameworks

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 11:49:54.317451
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('import_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('started_at', sa.String(length=32), nullable=False),
    sa.Column('finished_at', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('software_version', sa.String(length=32), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('provenance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('licence', sa.Text(), nullable=False),
    sa.Column('as_of', sa.String(length=10), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['import_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('actors',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('layer', sa.String(length=8), nullable=False),
    sa.Column('country', sa.String(length=3), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('wikidata', sa.String(length=16), nullable=True),
    sa.Column('geonames_id', sa.Integer(), nullable=True),
    sa.Column('admin1', sa.Text(), nullable=True),
    sa.Column('founded', sa.Integer(), nullable=True),
    sa.Column('axes', sa.String(length=64), server_default='', nullable=False),
    sa.Column('importance', sa.Float(), server_default='0', nullable=False),
    sa.Column('attrs', sa.JSON(), nullable=True),
    sa.Column('provenance_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['provenance_id'], ['provenance.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('actors', schema=None) as batch_op:
        batch_op.create_index('ix_actors_country', ['country'], unique=False)
        batch_op.create_index('ix_actors_geonames_id', ['geonames_id'], unique=False)
        batch_op.create_index('ix_actors_kind', ['kind'], unique=False)
        batch_op.create_index('ix_actors_layer', ['layer'], unique=False)
        batch_op.create_index('ix_actors_wikidata', ['wikidata'], unique=False)
    op.create_table('frameworks',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('attrs', sa.JSON(), nullable=True),
    sa.Column('provenance_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['provenance_id'], ['provenance.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('norm', sa.Text(), nullable=False),
    sa.Column('lang', sa.String(length=16), nullable=True),
    sa.Column('provenance_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provenance_id'], ['provenance.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('aliases', schema=None) as batch_op:
        batch_op.create_index('ix_aliases_actor', ['actor_id'], unique=False)
        batch_op.create_index('ix_aliases_norm', ['norm'], unique=False)
    op.create_table('framework_items',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('framework', sa.String(length=32), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('parent', sa.String(length=64), nullable=True),
    sa.Column('ordinal', sa.Integer(), server_default='0', nullable=False),
    sa.Column('attrs', sa.JSON(), nullable=True),
    sa.Column('provenance_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['framework'], ['frameworks.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provenance_id'], ['provenance.id'], ),
    sa.PrimaryKeyConstraint('code')
    )
    with op.batch_alter_table('framework_items', schema=None) as batch_op:
        batch_op.create_index('ix_framework_items_framework_level', ['framework', 'level'], unique=False)
        batch_op.create_index('ix_framework_items_parent', ['parent'], unique=False)
    op.create_table('ties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=128), nullable=False),
    sa.Column('target', sa.String(length=128), nullable=False),
    sa.Column('target_type', sa.String(length=16), server_default='actor', nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('since', sa.String(length=10), nullable=True),
    sa.Column('until', sa.String(length=10), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='active', nullable=False),
    sa.Column('axes', sa.String(length=64), server_default='', nullable=False),
    sa.Column('weight', sa.Float(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('provenance_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['provenance_id'], ['provenance.id'], ),
    sa.ForeignKeyConstraint(['source'], ['actors.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ties', schema=None) as batch_op:
        batch_op.create_index('ix_ties_source_type', ['source', 'type'], unique=False)
        batch_op.create_index('ix_ties_target_type', ['target', 'type'], unique=False)
        batch_op.create_index('ix_ties_type', ['type'], unique=False)
    op.create_table('framework_titles',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('lang', sa.String(length=16), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('short', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['code'], ['framework_items.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('code', 'lang')
    )
    # expression index: one tie per (source, target, type, start)
    op.create_index("ux_ties_key", "ties",
                    ["source", "target", "type", sa.text("coalesce(since, '')")], unique=True)


def downgrade() -> None:
    op.drop_table("framework_titles")
    op.drop_table("ties")
    op.drop_table("framework_items")
    op.drop_table("aliases")
    op.drop_table("frameworks")
    op.drop_table("actors")
    op.drop_table("provenance")
    op.drop_table("import_runs")
