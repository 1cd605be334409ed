from django.apps import AppConfig


class ReunionConfig(AppConfig):
    name = "shouhu.reunion"
    verbose_name = "Online reunions"
