from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "shouhu.audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from shouhu.audit import receivers  # noqa: F401  (login audit hooks)
