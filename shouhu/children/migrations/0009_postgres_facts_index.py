"""PostgreSQL-only acceleration for counting children by area: a covering index of the
facts the figures group by (residence, sex, birth date, categories), so that a project's
target group and the registry join of its figures read a narrow index instead of the wide
rows (`programmes.selectors`). A new category column belongs in its INCLUDE list.

Other databases count without it (slower on large registries, same results).
"""

from django.db import migrations

COLUMNS = (
    "id",
    "sex",
    "birth_date",
    "cat_left_behind_mca",
    "cat_left_behind_census",
    "cat_migrant",
    "cat_difficulty_poverty",
    "cat_difficulty_disability",
    "cat_difficulty_guardianship",
    "cat_de_facto_unsupported",
    "cat_orphan",
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS child_area_facts ON children_child (residence_id) "
        f"INCLUDE ({', '.join(COLUMNS)});"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS child_area_facts;")


class Migration(migrations.Migration):
    dependencies = [("children", "0008_household_version")]
    operations = [migrations.RunPython(create, drop)]
