"""The starting service catalogue (organisations may add and retire types)."""

from django.db import migrations

SERVICES = [
    ("education_support", "学业辅导", "Education support"),
    ("after_school", "课后托管（四点半课堂）", "After-school care"),
    ("counselling", "心理辅导", "Counselling"),
    ("family_education", "家庭教育指导", "Family education guidance"),
    ("guardianship_support", "监护指导", "Guardianship guidance"),
    ("legal_aid", "法律援助", "Legal aid"),
    ("medical_referral", "医疗转介", "Medical referral"),
    ("material_aid", "物资帮扶", "Material aid"),
    ("scholarship", "助学金", "Scholarship"),
    ("parent_contact", "亲子沟通支持", "Parent-child contact support"),
    ("group_activity", "小组活动", "Group activity"),
    ("home_visit", "入户探访", "Home visit"),
]


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    ServiceType = apps.get_model("cases", "ServiceType")
    for code, zh, en in SERVICES:
        ServiceType.objects.get_or_create(code=code, defaults={"name_zh": zh, "name_en": en})


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
