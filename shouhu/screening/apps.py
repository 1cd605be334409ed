from typing import Any

from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "shouhu.screening"
    verbose_name = "Screening and safeguarding"

    def ready(self) -> None:
        from shouhu.children import panels, signals
        from shouhu.screening.panels import risk_panel

        panels.register(risk_panel)
        signals.facts_changed.connect(_recompute, dispatch_uid="screening-risk")
        signals.registered_in_bulk.connect(_assess_new, dispatch_uid="screening-risk-bulk")


def _recompute(sender: Any, children: Any, **kwargs: Any) -> None:
    from shouhu.screening import risk

    for child in children:
        risk.recompute(child)


def _assess_new(sender: Any, children: Any, **kwargs: Any) -> None:
    from shouhu.screening import risk

    risk.assess_new(children)
