from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "shouhu.audit"
    verbose_name = "Audit"
