"""ties: a state's tie to the Paris Agreement means "party to", not "signatory of":
rewrite the ``signatory_of`` ties to the framework ``paris`` of stores built before as
``party_to`` (the default dataset writes ``party_to`` for parties and keeps
``signatory_of`` for states that signed and are not parties)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 12:00:00.000000
"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Before this revision every tie to 'paris' was a party's (the dataset recorded no
    # signature without ratification), so all of them become party_to.
    op.execute("UPDATE ties SET type = 'party_to' "
               "WHERE type = 'signatory_of' AND target = 'paris' AND target_type = 'framework'")


def downgrade() -> None:
    # A store at 0005 knew only signatory_of for Paris; a signature that is not a party's
    # (signatory_of since this revision) is dropped if a party_to tie with the same key
    # would collide with it.
    op.execute("DELETE FROM ties WHERE type = 'signatory_of' AND target = 'paris' "
               "AND target_type = 'framework' AND EXISTS (SELECT 1 FROM ties AS p "
               "WHERE p.type = 'party_to' AND p.target = 'paris' AND p.source = ties.source "
               "AND coalesce(p.since, '') = coalesce(ties.since, ''))")
    op.execute("UPDATE ties SET type = 'signatory_of' "
               "WHERE type = 'party_to' AND target = 'paris' AND target_type = 'framework'")
