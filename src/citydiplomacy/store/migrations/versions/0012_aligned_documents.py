"""documents aligned in bulk: aligned_documents and aligned_document_items

The results of ``citydip align FOLDER --out results.parquet --store --city CITY``: each
document of a corpus linked to the actor it is about (unique per actor and bulk document
id, so a second load changes nothing), with its provenance, and the SDG goals and targets
and the Paris articles it serves with score, paragraphs, share, place and evidence.
Portable: two CREATE TABLE and their indexes; no row is changed.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:35:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('aligned_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.String(length=128), nullable=False),
    sa.Column('document_id', sa.String(length=32), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('lang', sa.String(length=16), nullable=True),
    sa.Column('method', sa.String(length=32), nullable=True),
    sa.Column('n_passages', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('axes', sa.String(length=64), server_default='', nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('provenance_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provenance_id'], ['provenance.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('aligned_documents', schema=None) as batch_op:
        batch_op.create_index('ux_aligned_documents_key', ['actor_id', 'document_id'], unique=True)
        batch_op.create_index('ix_aligned_documents_document', ['document_id'], unique=False)
    op.create_table('aligned_document_items',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('passages', sa.Integer(), nullable=True),
    sa.Column('share', sa.Float(), nullable=True),
    sa.Column('ref', sa.Text(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['aligned_documents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_code'], ['framework_items.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id', 'item_code')
    )
    with op.batch_alter_table('aligned_document_items', schema=None) as batch_op:
        batch_op.create_index('ix_aligned_document_items_item', ['item_code'], unique=False)


def downgrade() -> None:
    op.drop_table('aligned_document_items')
    op.drop_table('aligned_documents')
