from typing import Any

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "shouhu.cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from shouhu.cases.panels import network_panel
        from shouhu.children import panels, signals

        panels.register(network_panel)
        signals.facts_changed.connect(_child_moved, dispatch_uid="cases-child-moved")


def _child_moved(sender: Any, children: Any, **kwargs: Any) -> None:
    from shouhu.cases.intakes import child_moved

    for child in children:
        child_moved(child)
