"""Two partial indexes the coordination board's aid lists read (issue 13): the eligible
children of an area with their household (`child_eligible_area`), and the households on
低保/特困 (`household_government_aid`). Both small: about one child in eight, one household
in ten."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_apitoken_password_stamp"),
        ("children", "0009_postgres_facts_index"),
        ("places", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="child",
            index=models.Index(
                condition=models.Q(
                    ("cat_difficulty_poverty", True),
                    ("cat_difficulty_disability", True),
                    ("cat_difficulty_guardianship", True),
                    ("cat_de_facto_unsupported", True),
                    ("cat_orphan", True),
                    _connector="OR",
                ),
                fields=["residence", "id", "household"],
                name="child_eligible_area",
            ),
        ),
        migrations.AddIndex(
            model_name="household",
            index=models.Index(
                condition=models.Q(("aid__in", ["dibao", "tekun"])),
                fields=["id"],
                name="household_government_aid",
            ),
        ),
    ]
