from django.apps import AppConfig


class AidConfig(AppConfig):
    name = "shouhu.aid"
    verbose_name = "Sponsors and aid"
