from django.apps import AppConfig


class SurrogatesConfig(AppConfig):
    name = "shouhu.surrogates"
    verbose_name = "Surrogate parents"

    def ready(self) -> None:
        from shouhu import access
        from shouhu.children import panels, selectors
        from shouhu.surrogates.models import Arrangement, Cadence, Contact
        from shouhu.surrogates.panels import surrogate_panel
        from shouhu.tasks.models import Task

        panels.register(surrogate_panel)
        # In the child's history: the arrangement, its cadences and contacts, and the task
        # a missed contact opened, for those who see the child's identifying fields (the
        # arrangement names the guardian and a person outside the family).
        for object_type, model in (
            ("arrangement", Arrangement),
            ("cadence", Cadence),
            ("contact", Contact),
            ("task", Task),
        ):
            selectors.register_history(
                object_type,
                model,
                {f.name: access.IDENTIFYING for f in model._meta.concrete_fields},
            )
