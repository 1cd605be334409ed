from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "shouhu.accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from shouhu.accounts.access import forget_assignments
        from shouhu.audit import receivers  # noqa: F401  (login audit hooks)

        # A written assignment changes who sees the child: the request's cache forgets.
        for signal in (post_save, post_delete):
            signal.connect(forget_assignments, sender="children.ChildAssignment", weak=False)
