"""Copy the home-visit tasks (`screening.FollowUpTask`) and the case follow-ups
(`cases.CaseTask`) into the one follow-up table, then the old tables are dropped by
screening 0007 and cases 0006."""

from django.db import migrations

BATCH = 2000


def _copy(apps, schema_editor):  # type: ignore[no-untyped-def]
    Task = apps.get_model("tasks", "Task")
    FollowUpTask = apps.get_model("screening", "FollowUpTask")
    CaseTask = apps.get_model("cases", "CaseTask")
    rows = []
    for old in FollowUpTask.objects.select_related("child").order_by("pk").iterator(BATCH):
        rows.append(
            Task(
                child_id=old.child_id,
                kind="home_visit",
                title="Home visit",
                reason=old.reason,
                level=old.level,
                assignee_id=old.assignee_id,
                due_on=old.due_on,
                status=old.status,
                created_at=old.created_at,
                done_at=old.done_at,
                done_by_id=old.done_by_id,
                administration_id=old.administration_id,
                residence=old.child.residence_id,
            )
        )
        if len(rows) >= BATCH:
            Task.objects.bulk_create(rows)
            rows = []
    for old in CaseTask.objects.select_related("case").order_by("pk").iterator(BATCH):
        rows.append(
            Task(
                child_id=old.case.child_id,
                case_id=old.case_id,
                kind=old.kind,
                title=old.title,
                assignee_id=old.assignee_id,
                due_on=old.due_on,
                recurring=old.recurring,
                status="open" if old.done_at is None else "done",
                created_at=old.case.opened_at,
                done_at=old.done_at,
                done_note=old.done_note,
                reminded_at=old.reminded_at,
                escalated_at=old.escalated_at,
                residence=old.residence,
            )
        )
        if len(rows) >= BATCH:
            Task.objects.bulk_create(rows)
            rows = []
    Task.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0001_initial"),
        ("cases", "0005_worklist_indexes"),
        ("screening", "0006_home_visits"),
    ]

    operations = [migrations.RunPython(_copy, migrations.RunPython.noop)]
