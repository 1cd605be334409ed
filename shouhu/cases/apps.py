from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "shouhu.cases"
    verbose_name = "Cases"
