"""audit_log: a channel column saying where a write came from (cli, web, api, python)

Rows written before this revision by the command line (user "cli") get channel "cli";
the others stay null: the web and the API were not told apart then.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=16), nullable=True))
    op.execute("UPDATE audit_log SET channel = 'cli' WHERE user_name = 'cli'")


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('channel')
