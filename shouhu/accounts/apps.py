from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "shouhu.accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from shouhu.audit import receivers  # noqa: F401  (login audit hooks)
