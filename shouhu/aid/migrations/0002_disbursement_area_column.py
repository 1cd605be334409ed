"""The child's village on each payment (`Disbursement.residence`) and the index the
coordination board reads an area's payments of a period from. Filled by the next migration."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("aid", "0001_sponsors_and_aid")]

    operations = [
        migrations.AddField(
            model_name="disbursement",
            name="residence",
            field=models.CharField(default="", editable=False, max_length=12),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="disbursement",
            index=models.Index(
                fields=["residence", "paid_on", "child", "kind", "scheme"],
                name="disbursement_area_paid",
            ),
        ),
    ]
