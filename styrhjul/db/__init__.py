"""Persistence: SQLAlchemy 2 models, the database handle and Alembic migrations.

SQLite is the embedded default, PostgreSQL the production and shared store; the same
models and migrations serve both.
"""
