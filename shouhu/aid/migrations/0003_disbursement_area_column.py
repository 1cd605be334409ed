"""The child's village and household on each payment (`Disbursement.residence`,
`Disbursement.household`) and the index the coordination board reads an area's payments of
a period from. Filled by the next migration."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("aid", "0002_application_scheme_label"),
        ("children", "0009_postgres_facts_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="disbursement",
            name="residence",
            field=models.CharField(default="", editable=False, max_length=12),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="disbursement",
            name="household",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="children.household",
            ),
        ),
        migrations.AddIndex(
            model_name="disbursement",
            index=models.Index(
                fields=["residence", "paid_on", "child", "kind", "scheme", "household"],
                name="disbursement_area_paid",
            ),
        ),
    ]
