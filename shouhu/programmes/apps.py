from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    name = "shouhu.programmes"
    verbose_name = "Programmes"
