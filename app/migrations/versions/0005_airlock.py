"""The airlock: release requests, groups, files, votes, comments and the release ledger.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "release_requests",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("project_id", sa.String(30), nullable=False, index=True),
        sa.Column("author", sa.String(64), nullable=False, index=True),
        sa.Column("state", sa.String(20), nullable=False, index=True),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created", sa.String(32), nullable=False),
        sa.Column("submitted", sa.String(32)),
        sa.Column("first_review", sa.String(32)),
        sa.Column("released", sa.String(32)),
    )
    op.create_table(
        "request_groups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.String(40), sa.ForeignKey("release_requests.id"), index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("controls", sa.Text(), nullable=False),
        sa.UniqueConstraint("request_id", "name"),
    )
    op.create_table(
        "request_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.String(40), sa.ForeignKey("release_requests.id"), index=True),
        sa.Column("group", sa.String(100), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("supporting", sa.Boolean(), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("check_outcome", sa.String(10), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.UniqueConstraint("request_id", "path"),
    )
    op.create_table(
        "release_votes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.String(40), sa.ForeignKey("release_requests.id"), index=True),
        sa.Column("file_id", sa.Integer(), sa.ForeignKey("request_files.id"), nullable=False),
        sa.Column("checker", sa.String(64), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("vote", sa.String(10), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.UniqueConstraint("file_id", "checker", "turn"),
    )
    op.create_table(
        "release_comments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.String(40), sa.ForeignKey("release_requests.id"), index=True),
        sa.Column("file_id", sa.Integer(), sa.ForeignKey("request_files.id")),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
    )
    op.create_table(
        "release_ledger",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.String(30), nullable=False, index=True),
        sa.Column("request_id", sa.String(40), nullable=False),
        sa.Column("file", sa.String(500), nullable=False),
        sa.Column("table", sa.JSON(), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "release_ledger",
        "release_comments",
        "release_votes",
        "request_files",
        "request_groups",
        "release_requests",
    ):
        op.drop_table(table)
