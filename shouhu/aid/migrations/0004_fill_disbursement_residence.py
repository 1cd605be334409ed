"""Copy each child's village and household onto their payments (set-based). Going back
leaves the columns to the previous migration, which drops them."""

from django.db import migrations


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    from django.db.models import OuterRef, Subquery

    Disbursement = apps.get_model("aid", "Disbursement")
    Child = apps.get_model("children", "Child")
    child = Child.objects.filter(pk=OuterRef("child_id"))
    Disbursement.objects.filter(household__isnull=True).update(
        residence=Subquery(child.values("residence_id")[:1]),
        household=Subquery(child.values("household_id")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [("aid", "0003_disbursement_area_column")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
