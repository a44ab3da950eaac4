"""The airlock keeps its own copies: a file's evidence hash; a vote's hash and override reason.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

Votes cast before this revision carry no hash (""), so they count for no file: a request in
review when the instance is upgraded is voted on again (return it, and the author resubmits it).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "request_files",
        sa.Column("evidence_sha256", sa.String(64), nullable=False, server_default=""),
    )
    op.add_column(
        "release_votes", sa.Column("sha256", sa.String(64), nullable=False, server_default="")
    )
    op.add_column(
        "release_votes", sa.Column("override", sa.Text(), nullable=False, server_default="")
    )


def downgrade() -> None:
    with op.batch_alter_table("release_votes") as batch:
        batch.drop_column("override")
        batch.drop_column("sha256")
    with op.batch_alter_table("request_files") as batch:
        batch.drop_column("evidence_sha256")
