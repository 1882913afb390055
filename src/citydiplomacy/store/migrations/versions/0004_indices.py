"""composite indices: scores (with rank intervals, or the reason a unit is not scored)
and the indicator values of the latest build

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 18:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('index_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.String(length=128), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('axis', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('rank', sa.Float(), nullable=True),
    sa.Column('rank_median', sa.Float(), nullable=True),
    sa.Column('rank_lo', sa.Float(), nullable=True),
    sa.Column('rank_hi', sa.Float(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['import_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('index_scores', schema=None) as batch_op:
        batch_op.create_index('ix_index_scores_actor', ['actor_id'], unique=False)
        batch_op.create_index('ix_index_scores_axis_year', ['axis', 'year'], unique=False)
    op.create_table('index_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.String(length=128), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('indicator', sa.String(length=64), nullable=False),
    sa.Column('raw', sa.Float(), nullable=True),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('imputed', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['import_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('index_values', schema=None) as batch_op:
        batch_op.create_index('ix_index_values_actor', ['actor_id'], unique=False)


def downgrade() -> None:
    op.drop_table("index_values")
    op.drop_table("index_scores")
