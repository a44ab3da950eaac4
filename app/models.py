"""Every package's tables, imported in one place so that Base.metadata is complete for Alembic."""

import linkage.models  # noqa: F401
import notebooks.models  # noqa: F401
import output_checks.models  # noqa: F401
import projects.models  # noqa: F401
from tre.audit import AuditEvent  # noqa: F401
