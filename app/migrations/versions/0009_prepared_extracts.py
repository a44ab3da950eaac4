"""Prepared extracts: the registry records each project version whose data the operator prepared.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

The policy engine lets analysts run analyses only once the data of the project's current version
is prepared. Extracts cut before this revision are recorded from their audit events
(``data.extract``, whose details name the version), so an upgrade locks nobody out.
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "prepared_extracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=30), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("prepared_by", sa.String(length=64), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_prepared_extracts_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prepared_extracts")),
    )
    connection = op.get_bind()
    known = {row[0] for row in connection.execute(sa.text("SELECT id FROM projects"))}
    events = connection.execute(
        sa.text(
            "SELECT object_id, actor, at, details FROM audit_events "
            "WHERE action = 'data.extract' ORDER BY seq"
        )
    )
    rows = []
    for project_id, actor, at, details in events:
        parsed = json.loads(details or "{}")
        if project_id in known and isinstance(parsed.get("version"), int):
            rows.append(
                {
                    "project_id": project_id,
                    "version": parsed["version"],
                    "prepared_by": actor,
                    "at": at,
                    "files": parsed.get("files", []),
                }
            )
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_table("prepared_extracts")
