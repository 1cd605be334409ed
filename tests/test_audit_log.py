"""The access log and change history are append-only."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from shouhu.audit.models import AccessLog, AppendOnlyError, ChangeRecord
from shouhu.audit.services import log_access
from tests.world import World

pytestmark = pytest.mark.django_db


def test_entries_cannot_be_changed_or_deleted_through_the_orm(world: World) -> None:
    entry = log_access(user=world.director_a, action="view_child", child_id=1, purpose="test")
    assert entry.roles == "child_director" and entry.organisations == "全山村村民委员会"
    entry.purpose = "tampered"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(pk=entry.pk).update(purpose="tampered")
    with pytest.raises(AppendOnlyError):
        ChangeRecord.objects.all().delete()
    assert AccessLog.objects.get(pk=entry.pk).purpose == "test"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="database trigger is PostgreSQL-only")
def test_postgres_refuses_raw_updates(world: World) -> None:
    entry = log_access(user=world.director_a, action="view_child", child_id=1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_accesslog SET purpose = 'x' WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_changerecord")


def test_users_with_audit_entries_cannot_be_deleted(world: World) -> None:
    from django.db.models import ProtectedError

    log_access(user=world.teacher_a, action="login")
    with pytest.raises(ProtectedError):
        world.teacher_a.delete()


def test_login_and_failed_login_are_logged(world: World, client) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    request = RequestFactory().post("/")
    assert authenticate(request=request, username="teacher_a", password="wrong") is None
    failed = AccessLog.objects.get(action="login_failed")
    assert failed.username == "teacher_a" and failed.user is None
    client.force_login(world.teacher_a)
    assert AccessLog.objects.filter(action="login", user=world.teacher_a).exists()
