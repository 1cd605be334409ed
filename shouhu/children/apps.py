from django.apps import AppConfig


class ChildrenConfig(AppConfig):
    name = "shouhu.children"
    verbose_name = "Children"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from shouhu.access import forget_assignments

        # A written assignment changes who sees the child: the request's cache forgets.
        for signal in (post_save, post_delete):
            signal.connect(forget_assignments, sender="children.ChildAssignment", weak=False)
