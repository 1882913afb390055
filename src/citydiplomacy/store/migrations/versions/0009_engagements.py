"""engagements: the engagement register (agreements, visits, events, declarations, projects)

Adds ``engagements`` and, keyed to it, ``engagement_parties`` (actors with roles and the
date each signed), ``engagement_documents``, ``engagement_followups``,
``engagement_alignments`` (framework items, as for initiatives) and ``engagement_ties``
(the ties an agreement establishes, renews or ends). No existing row changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 14:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('engagements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), server_default='', nullable=False),
    sa.Column('signed_on', sa.String(length=10), nullable=True),
    sa.Column('start_on', sa.String(length=10), nullable=True),
    sa.Column('end_on', sa.String(length=10), nullable=True),
    sa.Column('review_on', sa.String(length=10), nullable=True),
    sa.Column('place_id', sa.String(length=128), nullable=True),
    sa.Column('place', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='active', nullable=False),
    sa.Column('axes', sa.String(length=64), server_default='', nullable=False),
    sa.Column('outcomes', sa.Text(), nullable=True),
    sa.Column('attrs', sa.JSON(), nullable=True),
    sa.Column('updated_at', sa.String(length=32), nullable=True),
    sa.Column('provenance_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['place_id'], ['actors.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['provenance_id'], ['provenance.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key'),
    )
    for col in ('kind', 'status', 'signed_on', 'start_on', 'review_on'):
        op.create_index(f'ix_engagements_{col}', 'engagements', [col], unique=False)

    op.create_table('engagement_parties',
    sa.Column('engagement_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('signed_on', sa.String(length=10), nullable=True),
    sa.Column('attrs', sa.JSON(), nullable=True),
    sa.Column('provenance_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provenance_id'], ['provenance.id']),
    sa.PrimaryKeyConstraint('engagement_id', 'actor_id', 'role'),
    )
    op.create_index('ix_engagement_parties_actor', 'engagement_parties',
                    ['actor_id', 'engagement_id'], unique=False)

    op.create_table('engagement_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('engagement_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('filename', sa.Text(), nullable=True),
    sa.Column('media_type', sa.String(length=128), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('added_at', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_engagement_documents_engagement', 'engagement_documents',
                    ['engagement_id'], unique=False)

    op.create_table('engagement_followups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('engagement_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('due_on', sa.String(length=10), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='open', nullable=False),
    sa.Column('done_on', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_engagement_followups_engagement', 'engagement_followups',
                    ['engagement_id'], unique=False)
    op.create_index('ix_engagement_followups_due', 'engagement_followups', ['due_on'],
                    unique=False)

    op.create_table('engagement_alignments',
    sa.Column('engagement_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_code'], ['framework_items.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('engagement_id', 'item_code'),
    )
    op.create_index('ix_engagement_alignments_item', 'engagement_alignments', ['item_code'],
                    unique=False)

    op.create_table('engagement_ties',
    sa.Column('engagement_id', sa.Integer(), nullable=False),
    sa.Column('tie_id', sa.Integer(), nullable=False),
    sa.Column('effect', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagements.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tie_id'], ['ties.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('engagement_id', 'tie_id'),
    )
    op.create_index('ix_engagement_ties_tie', 'engagement_ties', ['tie_id'], unique=False)


def downgrade() -> None:
    for table in ('engagement_ties', 'engagement_alignments', 'engagement_followups',
                  'engagement_documents', 'engagement_parties', 'engagements'):
        op.drop_table(table)
