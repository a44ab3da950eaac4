"""Audit events carry a seal: an HMAC of their hash under the instance's audit key.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

The column is added in place (not by a batch copy), so the append-only triggers stay. Events
written before this revision stay unsealed; the first sealed event's hash chains over them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("seal", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("audit_events", "seal")  # in place too: the triggers stay
