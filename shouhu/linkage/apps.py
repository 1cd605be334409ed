from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "shouhu.linkage"
    label = "linkage"
    verbose_name = "Record linkage"
