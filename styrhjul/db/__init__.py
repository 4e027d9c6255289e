"""Persistence: SQLAlchemy 2 models, the database handle and Alembic migrations.

SQLite is the embedded default, PostgreSQL the production and shared store; the same
models and migrations serve both.
"""

# The instance subtypes must be mapped before any query on Instance can return them.
from styrhjul.db import governance as governance
from styrhjul.db import operations as operations
from styrhjul.db import web as web
