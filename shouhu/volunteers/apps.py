from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "shouhu.volunteers"
    verbose_name = "Volunteers"
