"""The registry: organisations, people, datasets, gateways, projects, approvals, agreements.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The gateways as they were seeded at this revision: frozen here, so that this migration never
# changes; a later change to the list is a new migration.
GATEWAYS = (
    (
        "uk-gdpr-6-1-e",
        "UK GDPR Article 6(1)(e): public task",
        "lawful basis",
        "Processing necessary for a task in the public interest or in official authority.",
    ),
    (
        "uk-gdpr-6-1-c",
        "UK GDPR Article 6(1)(c): legal obligation",
        "lawful basis",
        "Processing necessary to comply with a legal obligation.",
    ),
    (
        "uk-gdpr-9-2-g",
        "UK GDPR Article 9(2)(g): substantial public interest",
        "special category",
        "With a condition of DPA 2018 Schedule 1 Part 2.",
    ),
    (
        "uk-gdpr-9-2-h",
        "UK GDPR Article 9(2)(h): health or social care",
        "special category",
        "Health or social care purposes, with DPA 2018 Schedule 1 Part 1 paragraph 2.",
    ),
    (
        "uk-gdpr-9-2-j",
        "UK GDPR Article 9(2)(j): archiving, research and statistics",
        "special category",
        "With DPA 2018 Schedule 1 Part 1 paragraph 4 and Article 89 safeguards.",
    ),
    (
        "dpa-2018-sch1",
        "Data Protection Act 2018 Schedule 1",
        "special category",
        "Conditions for processing special categories and criminal offence data.",
    ),
    (
        "children-act-2004-s10",
        "Children Act 2004 section 10: co-operation to improve well-being",
        "statutory gateway",
        "Local authorities and partners co-operate to improve children's well-being.",
    ),
    (
        "children-act-2004-s11",
        "Children Act 2004 section 11: safeguarding duties",
        "statutory gateway",
        "Arrangements to safeguard and promote the welfare of children.",
    ),
    (
        "crime-disorder-1998-s115",
        "Crime and Disorder Act 1998 section 115: disclosure",
        "statutory gateway",
        "Disclosure to relevant authorities for the purposes of the Act.",
    ),
    (
        "crime-disorder-1998-s17",
        "Crime and Disorder Act 1998 section 17: duty to consider crime",
        "statutory gateway",
        "Authorities consider crime and disorder in all their functions.",
    ),
    (
        "dea-2017-part-5",
        "Digital Economy Act 2017 Part 5: public service delivery",
        "statutory gateway",
        "Data sharing to improve public services, including for research.",
    ),
    (
        "care-act-2014",
        "Care Act 2014",
        "statutory gateway",
        "Adult social care duties, including co-operation and safeguarding (sections 6, 7, 42).",
    ),
    (
        "hsca-2012-s251",
        "NHS Act 2006 section 251 (as amended by the Health and Social Care Act "
        "2012): support to set aside confidentiality",
        "confidentiality",
        "Approval under the Health Service (Control of Patient Information) Regulations 2002.",
    ),
    (
        "common-law-consent",
        "Common-law duty of confidentiality: consent",
        "confidentiality",
        "The people concerned consented to the disclosure.",
    ),
    (
        "common-law-not-confidential",
        "Common-law duty of confidentiality: data not confidential",
        "confidentiality",
        "The data is de-identified so that no duty of confidence arises.",
    ),
)


def upgrade() -> None:
    op.create_table(
        "agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=True),
        sa.Column("review", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("projects", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
    )
    op.create_table(
        "legal_gateways",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_legal_gateways")),
    )
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("code", name=op.f("uq_organisations_code")),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("controller_id", sa.Integer(), nullable=False),
        sa.Column("schema_ref", sa.String(length=300), nullable=False),
        sa.Column("schema_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["controller_id"],
            ["organisations.id"],
            name=op.f("fk_datasets_controller_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_people_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("username", name=op.f("uq_people_username")),
    )
    op.create_table(
        "accreditations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=100), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("expires", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_accreditations_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accreditations")),
    )
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=30), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("carried_from", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["approver_id"], ["people.id"], name=op.f("fk_approvals_approver_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_approvals_dataset_id_datasets")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_approvals_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
    )
    op.create_table(
        "data_items",
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("classification", sa.String(length=30), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_data_items_dataset_id_datasets")
        ),
        sa.PrimaryKeyConstraint("dataset_id", "name", name=op.f("pk_data_items")),
    )
    op.create_table(
        "declarations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=30), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("terms_version", sa.String(length=20), nullable=False),
        sa.Column("terms_sha256", sa.String(length=64), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_declarations_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_declarations_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declarations")),
        sa.UniqueConstraint(
            "project_id", "version", "person_id", name=op.f("uq_declarations_project_id")
        ),
    )
    op.create_table(
        "person_roles",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_person_roles_person_id_people")
        ),
        sa.PrimaryKeyConstraint("person_id", "role", name=op.f("pk_person_roles")),
    )
    op.create_table(
        "project_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=30), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["people.id"], name=op.f("fk_project_versions_lead_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_versions_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_versions")),
        sa.UniqueConstraint("project_id", "version", name=op.f("uq_project_versions_project_id")),
    )
    op.create_table(
        "project_members",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_project_members_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["project_versions.id"],
            name=op.f("fk_project_members_version_id_project_versions"),
        ),
        sa.PrimaryKeyConstraint("version_id", "person_id", "role", name=op.f("pk_project_members")),
    )
    op.create_table(
        "requested_items",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("item", sa.String(length=100), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_requested_items_dataset_id_datasets")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["project_versions.id"],
            name=op.f("fk_requested_items_version_id_project_versions"),
        ),
        sa.PrimaryKeyConstraint(
            "version_id", "dataset_id", "item", name=op.f("pk_requested_items")
        ),
    )
    # the legal gateway catalogue, seeded with the common UK ones (extendable by operators)
    gateways = sa.table(
        "legal_gateways",
        sa.column("code"),
        sa.column("name"),
        sa.column("kind"),
        sa.column("description"),
    )
    op.bulk_insert(
        gateways, [{"code": c, "name": n, "kind": k, "description": d} for c, n, k, d in GATEWAYS]
    )


def downgrade() -> None:
    op.drop_table("requested_items")
    op.drop_table("project_members")
    op.drop_table("project_versions")
    op.drop_table("person_roles")
    op.drop_table("declarations")
    op.drop_table("data_items")
    op.drop_table("approvals")
    op.drop_table("accreditations")
    op.drop_table("people")
    op.drop_table("datasets")
    op.drop_table("projects")
    op.drop_table("organisations")
    op.drop_table("legal_gateways")
    op.drop_table("agreements")
