from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "shouhu.screening"
    verbose_name = "Screening and safeguarding"
