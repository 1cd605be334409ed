"""Fill the figures' pre-aggregate from the attendances and counselling already recorded."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import migrations
from django.utils import timezone


def backfill(apps: Any, schema_editor: Any) -> None:
    Attendance = apps.get_model("programmes", "Attendance")
    Counselling = apps.get_model("programmes", "Counselling")
    Served = apps.get_model("programmes", "Served")
    counts: dict[tuple[int, Any, str], list[int]] = defaultdict(lambda: [0, 0])
    for project_id, starts_at, child_id, member_id in (
        Attendance.objects.filter(
            session__programme__project__isnull=False,
            session__status="held",
            status__in=["present", "late"],
        )
        .values_list(
            "session__programme__project_id",
            "session__starts_at",
            "enrolment__child_id",
            "enrolment__member_id",
        )
        .iterator()
    ):
        month = timezone.localtime(starts_at).date().replace(day=1)
        person = f"c{child_id}" if child_id else f"m{member_id}"
        counts[(project_id, month, person)][0] += 1
    for project_id, held_on, child_id in (
        Counselling.objects.filter(project__isnull=False)
        .values_list("project_id", "held_on", "child_id")
        .iterator()
    ):
        counts[(project_id, held_on.replace(day=1), f"c{child_id}")][1] += 1
    Served.objects.bulk_create(
        [
            Served(
                project_id=project_id,
                month=month,
                person=person,
                child_id=int(person[1:]) if person[0] == "c" else None,
                member_id=int(person[1:]) if person[0] == "m" else None,
                attended=a,
                counselled=c,
            )
            for (project_id, month, person), (a, c) in counts.items()
        ],
        batch_size=2000,
    )


class Migration(migrations.Migration):
    dependencies = [("programmes", "0003_served")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
