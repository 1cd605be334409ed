from django.apps import AppConfig


class ChildrenConfig(AppConfig):
    name = "shouhu.children"
    verbose_name = "Children"
