# The follow-ups now live in `tasks.Task` (copied by tasks 0002).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0006_home_visits"),
        ("tasks", "0002_copy_follow_ups"),
    ]

    operations = [
        migrations.DeleteModel(
            name="FollowUpTask",
        ),
    ]
