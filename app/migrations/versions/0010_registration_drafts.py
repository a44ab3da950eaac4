"""Registration drafts: a lead's unfinished answers to the guided registration.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

The guided registration asks its questions a section a page (the GOV.UK task-list pattern); the
answers typed so far are kept here between pages, one row per lead and project (``amends`` empty
for a new project), until the registration is saved. A partial registration cannot be a project
version (a version is a whole, checked registration), so it needs a table of its own.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registration_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("amends", sa.String(length=30), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("saved", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_registration_drafts_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_drafts")),
        sa.UniqueConstraint("person_id", "amends", name=op.f("uq_registration_drafts_person_id")),
    )


def downgrade() -> None:
    op.drop_table("registration_drafts")
