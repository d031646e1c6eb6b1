"""The sequences app's migrations: the version note's migration, first numbered 0006 beside 0006_saved_scenarios,
is 0007; a database that applied it under its old name migrates on without adding the column again."""
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

pytestmark = pytest.mark.django_db


def test_the_sequences_migrations_have_one_leaf_and_no_number_twice():
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    names = sorted(name for app, name in graph.nodes if app == "sequences")
    numbers = [name.split("_", 1)[0] for name in names]
    assert len(numbers) == len(set(numbers)), names
    assert graph.leaf_nodes("sequences") == [("sequences", "0007_version_note")]


def test_a_database_that_applied_0006_version_note_migrates_on_without_adding_the_note_again():
    recorder = MigrationRecorder(connection)
    recorder.record_unapplied("sequences", "0007_version_note")
    recorder.record_applied("sequences", "0006_version_note")  # as an install migrated before the rename
    out = io.StringIO()
    call_command("migrate", "sequences", stdout=out)  # without `replaces`: the column "note" already exists
    assert "No migrations to apply" in out.getvalue(), out.getvalue()
    assert ("sequences", "0007_version_note") in recorder.applied_migrations()
    from sequences.models import SequenceVersion
    assert SequenceVersion._meta.get_field("note").max_length == 500
