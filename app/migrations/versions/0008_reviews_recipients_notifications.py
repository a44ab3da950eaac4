"""Submitted reviews, a request's recipients, and notifications.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

A checker's votes count once they submit their review of the turn (release_reviews); votes cast
before this revision have no submitted review, so a request in review when the instance is
upgraded needs each checker to submit their review (their votes are kept as drafts). A request
names the people who may download its released files (release_recipients); requests made before
name nobody, so their released files are downloaded by nobody until an operator adds recipients.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "release_reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "request_id", sa.String(40), sa.ForeignKey("release_requests.id"), nullable=False
        ),
        sa.Column("checker", sa.String(64), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("submitted", sa.String(32), nullable=False),
        sa.UniqueConstraint("request_id", "checker", "turn"),
    )
    op.create_index("ix_release_reviews_request_id", "release_reviews", ["request_id"])
    op.create_table(
        "release_recipients",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "request_id", sa.String(40), sa.ForeignKey("release_requests.id"), nullable=False
        ),
        sa.Column("person", sa.String(64), nullable=False),
        sa.UniqueConstraint("request_id", "person"),
    )
    op.create_index("ix_release_recipients_request_id", "release_recipients", ["request_id"])
    op.create_table(
        "airlock_notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person", sa.String(64), nullable=False),
        sa.Column(
            "request_id", sa.String(40), sa.ForeignKey("release_requests.id"), nullable=False
        ),
        sa.Column("step", sa.String(20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("read", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_airlock_notifications_person", "airlock_notifications", ["person"])


def downgrade() -> None:
    op.drop_table("airlock_notifications")
    op.drop_table("release_recipients")
    op.drop_table("release_reviews")
