"""Ingests: one row per agency file taken in, with its counts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingests",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("file", sa.String(300), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("schema_version", sa.String(20), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ingests"),
    )
    op.create_index("ix_ingests_dataset", "ingests", ["dataset"])
    op.create_index("ix_ingests_sha256", "ingests", ["sha256"])


def downgrade() -> None:
    op.drop_table("ingests")
