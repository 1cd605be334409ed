"""The risk level, the score trends and the home visits on the child's page (registered
with `children.panels`)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language

from shouhu import access
from shouhu.children.panels import Page
from shouhu.screening.models import HomeVisit, RiskLevel
from shouhu.screening.selectors import child_trends
from shouhu.tasks.selectors import open_home_visit


def risk_panel(page: Page) -> dict[str, Any]:
    """The risk colour and why, for those who may see screening summaries (its reasons can
    say that a screening needs follow-up, never more), and the trend of the scores the user
    may see in full."""
    user, child, levels = page.user, page.child, page.screening_levels
    if levels["needs_assessment"] == access.RESULTS_NONE:
        return {}
    level = RiskLevel.objects.filter(child=child).first()
    if level is None:
        return {}
    language = "en" if (get_language() or "").startswith("en") else "zh-Hans"
    return {
        "trends": child_trends(user, child, levels=levels, language=language),
        "risk": level,
        # The reasons name sensitive facts (事实无人抚养, the guardianship rating, a mandatory
        # report): below the sensitive class, the colour and the visits it sets only.
        "risk_reasons": [r["label"].get(language, r["code"]) for r in level.reasons]
        if access.may_see_risk_reasons(user, child)
        else [],
        "visit_task": open_home_visit(child.pk),
        "may_record_visit": access.can_administer(user, child, kind="needs_assessment"),
        "last_visit": HomeVisit.objects.filter(child=child)
        .order_by("-visited_on")
        .values_list("visited_on", flat=True)
        .first(),
    }
