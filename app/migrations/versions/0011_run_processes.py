"""Runs name the process that runs them: host name, boot id, pid and the process's start time.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

A run interrupted by a restart or a crash of its process stayed ``running`` for ever; with its
process recorded, recovery (``notebooks.recovery``) can tell a process that is gone from the live
runner, even when the pid was reused or the machine rebooted. Runs recorded before this revision
have no process (NULL): recovery fails those still running, and says why.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COLUMNS = ("host", "boot_id", "pid", "pid_started")


def upgrade() -> None:
    op.add_column("runs", sa.Column("host", sa.String(255), nullable=True))
    op.add_column("runs", sa.Column("boot_id", sa.String(64), nullable=True))
    op.add_column("runs", sa.Column("pid", sa.Integer(), nullable=True))
    op.add_column("runs", sa.Column("pid_started", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column)
