"""What the benchmark scripts share (each is run as ``python bench/<name>.py``, so this directory is
first on the import path)."""

from __future__ import annotations


def reset_postgres(database_url: str) -> None:
    """Drop and re-create the database ``database_url`` names (the script's own, never ``test``)."""
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin = database_url.rsplit("/", 1)[0].replace("postgres://", "postgresql://", 1) + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
