#!/usr/bin/env python3
"""schema.sql must equal the migrations applied in order: compares the two databases'
tables, columns, indexes and constraints (sqlite_master plus table_info), not the text."""
import pathlib
import sqlite3
import sys

root = pathlib.Path(__file__).resolve().parent.parent


def shape(scripts):
    db = sqlite3.connect(":memory:")
    for script in scripts:
        db.executescript(script.read_text())
    objects = sorted(
        db.execute(
            "SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        )
    )
    columns = {
        name: db.execute(f"PRAGMA table_info('{name}')").fetchall()
        for kind, name, _ in objects
        if kind == "table"
    }
    indexes = {
        name: db.execute(f"PRAGMA index_info('{name}')").fetchall()
        for kind, name, _ in objects
        if kind == "index"
    }
    return objects, columns, indexes


migrations = sorted((root / "migrations").glob("*.sql"))
if not migrations:
    sys.exit("check-schema: no migrations/*.sql")
from_schema = shape([root / "schema.sql"])
from_migrations = shape(migrations)
if from_schema != from_migrations:
    for label, a, b in zip(("objects", "columns", "indexes"), from_schema, from_migrations):
        if a != b:
            print(f"check-schema: {label} differ\n  schema.sql:  {a}\n  migrations: {b}")
    sys.exit("check-schema: schema.sql and migrations/ disagree")
print(f"check-schema: schema.sql matches {len(migrations)} migration(s)")
