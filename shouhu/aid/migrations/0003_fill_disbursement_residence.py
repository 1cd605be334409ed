"""Copy each child's village onto their payments (set-based). Going back leaves the column
to the previous migration, which drops it."""

from django.db import migrations


def fill_residence(apps, schema_editor):  # type: ignore[no-untyped-def]
    from django.db.models import OuterRef, Subquery

    Disbursement = apps.get_model("aid", "Disbursement")
    Child = apps.get_model("children", "Child")
    Disbursement.objects.filter(residence="").update(
        residence=Subquery(Child.objects.filter(pk=OuterRef("child_id")).values("residence_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("aid", "0002_disbursement_area_column"),
        ("children", "0009_postgres_facts_index"),
    ]

    operations = [migrations.RunPython(fill_residence, migrations.RunPython.noop)]
