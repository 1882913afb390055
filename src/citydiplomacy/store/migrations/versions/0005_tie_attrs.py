"""ties: an attrs column for facts that have no column of their own (a Covenant member's
commitments and gcom_id, the source of a suspension, ...)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 08:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attrs', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ties', schema=None) as batch_op:
        batch_op.drop_column('attrs')
