"""The shipped catalogue (`catalogue.toml`): the designs every deployment starts with."""

import tomllib
from pathlib import Path

from django.db import migrations

CATALOGUE = Path(__file__).resolve().parent.parent / "catalogue.toml"
SOURCE = "吐鲁番市“做有能力的小公民”困境儿童心理援助项目"


def _load(apps, schema_editor):  # type: ignore[no-untyped-def]
    Design = apps.get_model("programmes", "Design")
    with CATALOGUE.open("rb") as f:
        rows = tomllib.load(f)["design"]
    for row in rows:
        low, high = row["hours"]
        Design.objects.get_or_create(
            organisation=None,
            kind=row["kind"],
            name=row["name"],
            defaults={
                "hours_min": low,
                "hours_max": high,
                "content": row["content"],
                "source": SOURCE,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("programmes", "0001_initial")]

    operations = [migrations.RunPython(_load, migrations.RunPython.noop)]
