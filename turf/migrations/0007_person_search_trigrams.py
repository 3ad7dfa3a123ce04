"""Trigram indexes for finding people by part of a name or phone (people search, and the
follow-ups search's names), matching the expressions Django writes for icontains and
contains on PostgreSQL. Nothing on other databases."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = [
    ("person_first_name_trgm", "(UPPER(first_name::text))"),
    ("person_last_name_trgm", "(UPPER(last_name::text))"),
    ("person_phone_trgm", "phone"),
    ("person_email_trgm", "(UPPER(email::text))"),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, expression in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX {name} ON turf_person USING gin ({expression} gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _expression in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("turf", "0006_merge")]

    operations = [TrigramExtension(), migrations.RunPython(forwards, backwards)]
