from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "shouhu.jobs"
    verbose_name = "Periodic jobs"
