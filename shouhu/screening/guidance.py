"""What to do first, shown with a safeguarding alert: chosen by what raised it.

An alert's flags name an instrument's `[[flags]]` entry; each flag belongs to one situation
(immediate danger at home, abuse or violence, a child without a capable carer, self-harm or
suicide risk), and each situation has its first steps. The steps say what was found, so they
are shown only to the people who see the alert's reasons (`access.alerts_with_reasons`);
everyone else is told the priority and the action owed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

DANGER = "danger"
ABUSE = "abuse"
NO_CARER = "no_carer"
SELF_HARM = "self_harm"
SUICIDE_IMMINENT = "suicide_imminent"

# Flag code → situation (codes are unique within an instrument and shared on purpose across
# instruments that ask the same thing: `self_harm_thoughts` in PHQ-9 and PHQ-A).
SITUATIONS = {
    "immediate_danger": DANGER,
    "abuse_or_violence": ABUSE,
    "unexplained_injury": ABUSE,
    "living_alone_no_carer": NO_CARER,
    "severe_malnutrition": NO_CARER,
    "self_harm_thoughts": SELF_HARM,
    "suicidal_thoughts_month": SELF_HARM,
    "suicide_attempt_ever": SELF_HARM,
    "non_acute_positive": SELF_HARM,
    "q5_declined": SELF_HARM,
    "self_harm_talk": SELF_HARM,
    "acute_positive": SUICIDE_IMMINENT,
}

STEPS: Mapping[str, Promise] = {
    DANGER: _(
        "The child is in danger now: make the child safe first. Call the police (110) if the "
        "child is being harmed or cannot be found, an ambulance (120) if the child is acutely "
        "ill; stay with the child, or keep searching with the police, until help arrives. "
        "Tell the guardians unless they are suspected of the harm."
    ),
    ABUSE: _(
        "Possible abuse or violence: report to the police now (mandatory report). Listen "
        "calmly, do not question the child again and again, and write down the child's own "
        "words. Do not tell or confront the suspected person; keep the child away from them."
    ),
    NO_CARER: _(
        "The child has no capable carer: report to the police now (mandatory report), get the "
        "child fed and seen by a doctor if needed, and arrange a temporary carer with the "
        "village committee and the township supervisor."
    ),
    SELF_HARM: _(
        "Risk of self-harm or suicide: a trained worker talks with the child in person today "
        "and makes a safety plan with the child and the carer; tell the carer to keep "
        "medicines, pesticides and sharp tools out of reach."
    ),
    SUICIDE_IMMINENT: _(
        "Imminent risk of suicide: stay with the child, remove dangerous items, and arrange "
        "an urgent mental-health evaluation. Do not let the child leave alone."
    ),
}

GENERIC = {
    "imminent": _(
        "Imminent risk: someone must see the child now. Acknowledge the alert and record what "
        "was done."
    ),
    "urgent": _(
        "A responder sees the child today. Acknowledge the alert and record what was done."
    ),
}


def situations(flags: Iterable[Mapping[str, Any]]) -> list[str]:
    """The situations of an alert's flags, most urgent first, each once."""
    order = [DANGER, SUICIDE_IMMINENT, ABUSE, NO_CARER, SELF_HARM]
    found = {SITUATIONS[str(f.get("code"))] for f in flags if f.get("code") in SITUATIONS}
    return [s for s in order if s in found]


def steps_for(flags: Iterable[Mapping[str, Any]], *, priority: str) -> list[str]:
    """The first steps for these flags (the generic ones when no flag is known)."""
    found = [str(STEPS[s]) for s in situations(flags)]
    return found or [str(GENERIC.get(priority, GENERIC["urgent"]))]


def generic_for(priority: str) -> str:
    """What readers who may not see the reasons are told."""
    return str(GENERIC.get(priority, GENERIC["urgent"]))
