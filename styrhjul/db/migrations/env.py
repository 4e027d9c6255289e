"""Alembic environment: runs online against the URL that styrhjul.db.migrate passes in."""

from alembic import context
from sqlalchemy import create_engine

from styrhjul.db.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "styrhjul.db.migrate sets sqlalchemy.url"
connectable = create_engine(url)
try:
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
finally:
    connectable.dispose()  # also when a migration refuses: no connection is left behind
