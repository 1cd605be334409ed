from django.apps import AppConfig


class HandoffConfig(AppConfig):
    name = "shouhu.handoff"
    label = "handoff"
    verbose_name = "Hand-off between deployments"

    def ready(self) -> None:
        from shouhu.children import panels, selectors
        from shouhu.handoff.models import Incoming
        from shouhu.handoff.panels import handoff_panel

        panels.register(handoff_panel)
        # A package attached to a registered child is a line of the child's history: which
        # package, from whom, and which fields differ (names only, never the values).
        selectors.register_history("incoming", Incoming, {})
