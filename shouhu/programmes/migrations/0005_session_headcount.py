"""A session's headcount (attendances present or late), kept by the roll call; filled here
from the attendances already recorded."""

from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def fill(apps, schema_editor):
    Attendance = apps.get_model("programmes", "Attendance")
    ProgrammeSession = apps.get_model("programmes", "ProgrammeSession")
    ProgrammeSession.objects.update(
        attended=Coalesce(
            Subquery(
                Attendance.objects.filter(session=OuterRef("pk"), status__in=["present", "late"])
                .values("session")
                .annotate(n=Count("*"))
                .values("n")
            ),
            0,
        )
    )


class Migration(migrations.Migration):
    dependencies = [("programmes", "0004_served_backfill")]

    operations = [
        migrations.AddField(
            model_name="programmesession",
            name="attended",
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name="attended"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
