"""The shipped catalogue (`catalogue.toml`): the designs every deployment starts with."""

from django.db import migrations


def _load(apps, schema_editor):  # type: ignore[no-untyped-def]
    # The loader reads only the data file and takes the migration's historical model.
    from shouhu.programmes.catalogue import ensure_shipped

    ensure_shipped(apps.get_model("programmes", "Design"))


class Migration(migrations.Migration):
    dependencies = [("programmes", "0001_initial")]

    operations = [migrations.RunPython(_load, migrations.RunPython.noop)]
