"""data versions: a counter per scope that every write raises in its transaction

Adds ``data_versions`` (scope, version, changed_at) and an index on ``version``: see
:mod:`citydiplomacy.store.versions`. Empty at first (a store without a row reads its
version from its latest import run), so that ``citydip migrate-store`` still copies into
a new store that holds nothing.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 21:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('data_versions',
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('changed_at', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('scope'),
    )
    op.create_index('ix_data_versions_version', 'data_versions', ['version'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_data_versions_version', table_name='data_versions')
    op.drop_table('data_versions')
