from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "shouhu.notify"
    verbose_name = "Notifications"
