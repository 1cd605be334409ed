from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "shouhu.demo"
    verbose_name = "Demo and generated data"
