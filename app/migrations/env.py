"""Alembic environment: the engine is handed in by tre.db.upgrade (no alembic.ini needed)."""

from alembic import context

import app.models  # noqa: F401  (registers every package's tables on Base.metadata)
from tre.db import Base

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
