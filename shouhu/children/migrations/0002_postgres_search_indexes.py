"""PostgreSQL-only acceleration for name search: a trigram index for "name contains".

Other databases search without it (slower on large registries, same results).
"""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm;")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS child_name_trgm ON children_child "
        "USING gin (name gin_trgm_ops);"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS child_name_trgm;")


class Migration(migrations.Migration):
    dependencies = [("children", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
