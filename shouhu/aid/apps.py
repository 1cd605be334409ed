from typing import Any

from django.apps import AppConfig


class AidConfig(AppConfig):
    name = "shouhu.aid"
    verbose_name = "Sponsors and aid"

    def ready(self) -> None:
        from shouhu import access
        from shouhu.aid.models import Application, Disbursement
        from shouhu.aid.panels import aid_panel
        from shouhu.children import panels, selectors, signals

        panels.register(aid_panel)
        signals.facts_changed.connect(_child_moved, dispatch_uid="aid-child-moved")
        # A child's aid is economic information: in the history, for sensitive readers only.
        for object_type, model in (("application", Application), ("disbursement", Disbursement)):
            selectors.register_history(
                object_type,
                model,
                {f.name: access.SENSITIVE for f in model._meta.concrete_fields},
            )


def _child_moved(sender: Any, children: Any, **kwargs: Any) -> None:
    from shouhu.aid.services import child_moved

    for child in children:
        child_moved(child)
