"""Administrations of instruments, the licence register, and safeguarding alerts.

Instrument definitions are files (`instruments/*.toml`, loaded by `shouhu.lib.instruments`);
the database keeps what was answered and what the deployment has licensed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# The colour is the registry's (follow-ups carry it too); re-exported for the screening code.
from shouhu.children.models import RiskColour as RiskColour


class Respondent(models.TextChoices):
    CHILD = "child", _("The child")
    CAREGIVER = "caregiver", _("A caregiver")
    WORKER = "worker", _("The worker")


class Mode(models.TextChoices):
    SELF_REPORT = "self_report", _("Self-report")
    INTERVIEW = "interview", _("Interview")
    OBSERVATION = "observation", _("Observation")


class InstrumentLicence(models.Model):
    """The licence register: whether this deployment uses an instrument, the licence or
    permission it holds, and item text installed under that licence (instruments shipped as
    scoring definitions only cannot be enabled without it)."""

    code = models.CharField(_("instrument"), max_length=32, unique=True)
    enabled = models.BooleanField(_("enabled"), default=False)
    reference = models.CharField(_("licence or permission"), max_length=500, blank=True)
    # {language: {item id: text}} installed by the deploying organisation.
    texts = models.JSONField(_("installed item text"), default=dict, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now=True)

    class Meta:
        verbose_name = _("instrument licence")
        verbose_name_plural = _("instrument licences")

    def __str__(self) -> str:
        return self.code


class GroupSession(models.Model):
    """A counsellor screening a class or activity group in one sitting."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    instrument = models.CharField(_("instrument"), max_length=32)
    title = models.CharField(_("group"), max_length=200)
    held_on = models.DateField(_("date"))
    conducted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    children = models.ManyToManyField("children.Child", related_name="+", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("group screening")
        verbose_name_plural = _("group screenings")

    def __str__(self) -> str:
        return self.title


class Administration(models.Model):
    """One completed instrument. Scores are computed from the answers when it is stored and
    never taken from input; the answers themselves are encrypted at rest."""

    child = models.ForeignKey(
        "children.Child", on_delete=models.PROTECT, related_name="administrations"
    )
    instrument = models.CharField(_("instrument"), max_length=32)
    version = models.CharField(_("version"), max_length=16)
    kind = models.CharField(_("kind"), max_length=20)
    administered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    respondent = models.CharField(_("respondent"), max_length=16, choices=Respondent.choices)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices)
    language = models.CharField(_("language"), max_length=10)
    administered_at = models.DateTimeField(_("date"))
    answers_enc = models.TextField(_("answers (encrypted)"))
    total = models.FloatField(_("total"), null=True, blank=True)
    band = models.CharField(_("band"), max_length=32, blank=True)
    subscales = models.JSONField(_("subscales"), default=dict)
    flags = models.JSONField(_("flags"), default=list)
    missing = models.JSONField(_("missing items"), default=list)
    prorated = models.BooleanField(_("prorated"), default=False)
    follow_up = models.BooleanField(_("needs follow-up"), default=False)
    action = models.CharField(_("action owed"), max_length=20, blank=True)
    group = models.ForeignKey(
        GroupSession,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="administrations",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-administered_at", "-id"]
        verbose_name = _("administration")
        verbose_name_plural = _("administrations")
        indexes = [
            models.Index(fields=["child", "instrument", "administered_at"], name="admin_child"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.pk}"


class Draft(models.Model):
    """An unfinished questionnaire kept to finish later. Never scored and never a result: it
    raises no alert and changes no risk level; only the worker who started it reads it back,
    and it is gone once the questionnaire is submitted complete."""

    child = models.ForeignKey("children.Child", on_delete=models.CASCADE, related_name="+")
    instrument = models.CharField(_("instrument"), max_length=32)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices)
    language = models.CharField(_("language"), max_length=10)
    answers_enc = models.TextField(_("answers so far (encrypted)"))
    group = models.ForeignKey(
        GroupSession, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("kept"))

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("unfinished questionnaire")
        verbose_name_plural = _("unfinished questionnaires")
        constraints = [
            models.UniqueConstraint(
                fields=["child", "instrument", "started_by"], name="draft_one_per_worker"
            )
        ]

    def __str__(self) -> str:
        return f"draft {self.instrument} {self.child_id}"


class Priority(models.TextChoices):
    IMMINENT = "imminent", _("Imminent risk")
    URGENT = "urgent", _("Urgent")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Waiting for acknowledgement")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", _("Closed")


class Level(models.IntegerChoices):
    RESPONDER = 0, _("Designated responder")
    SUPERVISOR = 1, _("Township supervisor")
    COUNTY = 2, _("County civil-affairs officer")


class Responder(models.Model):
    """A designated safeguarding responder of an organisation."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("safeguarding responder")
        verbose_name_plural = _("safeguarding responders")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], name="responder_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation}"


class Alert(models.Model):
    """A safeguarding alert: must be acknowledged by `due_at`, else it escalates a level."""

    child = models.ForeignKey("children.Child", on_delete=models.PROTECT, related_name="alerts")
    administration = models.ForeignKey(
        Administration, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible organisation"),
    )
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices)
    flags = models.JSONField(_("reasons"), default=list)
    status = models.CharField(
        _("status"), max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    level = models.IntegerField(_("escalation level"), choices=Level.choices, default=0)
    raised_at = models.DateTimeField(_("raised"))
    due_at = models.DateTimeField(_("acknowledge by"), db_index=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    recipients = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="safeguarding_alerts", blank=True
    )

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("safeguarding alert")
        verbose_name_plural = _("safeguarding alerts")
        indexes = [models.Index(fields=["status", "due_at"], name="alert_status_due")]

    def __str__(self) -> str:
        return f"alert {self.pk}"


class EventKind(models.TextChoices):
    RAISED = "raised", _("Raised")
    NOTIFIED = "notified", _("Notified")
    ESCALATED = "escalated", _("Escalated")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    ACTION = "action", _("Action taken")
    CLOSED = "closed", _("Closed")


class AlertEvent(models.Model):
    """What happened to an alert, in order: raised, notified whom, escalated, acknowledged,
    each action taken, closed."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("event"), max_length=16, choices=EventKind.choices)
    note = models.TextField(_("note"), blank=True)
    recipients = models.JSONField(_("notified"), default=list)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("alert event")
        verbose_name_plural = _("alert events")

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"


class RiskLevel(models.Model):
    """A child's current risk colour and why, recomputed whenever one of its inputs changes
    (never typed by hand)."""

    child = models.OneToOneField(
        "children.Child", on_delete=models.CASCADE, related_name="risk", primary_key=True
    )
    level = models.CharField(_("risk level"), max_length=8, choices=RiskColour.choices)
    reasons = models.JSONField(_("reasons"), default=list)  # [{code, level, label}]
    facts = models.JSONField(_("facts"), default=dict)
    computed_at = models.DateTimeField(_("computed"))
    interval_days = models.PositiveIntegerField(_("follow-up interval (days)"))
    # The child's village when computed (recomputed when the child moves): the area
    # boards find the children of a colour in a place without joining the registry.
    residence = models.CharField(max_length=12, editable=False)

    class Meta:
        verbose_name = _("risk level")
        verbose_name_plural = _("risk levels")
        # Children of one colour in id order (the coordination board's gap scan).
        indexes = [
            models.Index(fields=["level", "residence", "child"], name="risk_level_place_child")
        ]

    def __str__(self) -> str:
        return f"{self.child_id}: {self.level}"


class Trigger(models.TextChoices):
    """Situations of the 2020 nine-ministry Opinion on mandatory reporting (强制报告)."""

    SEXUAL_HARM = "sexual_harm", _("Sexual assault or sexual harm")
    PREGNANCY = "pregnancy", _("Pregnancy or abortion of a girl under 14")
    INJURY = "injury", _("Unusual injury")
    MALNUTRITION = "malnutrition", _("Severe malnutrition or impaired consciousness")
    DOMESTIC_VIOLENCE = "domestic_violence", _("Domestic violence")
    ABUSE = "abuse", _("Abuse or neglect")
    BULLYING = "bullying", _("School bullying causing harm")
    ABANDONMENT = "abandonment", _("Abandonment")
    LIVING_ALONE = "living_alone", _("Living alone without supervision")
    MISSING = "missing", _("Missing child")
    TRAFFICKING = "trafficking", _("Trafficking, abduction or organised begging")
    SELF_HARM_INJURY = "self_harm_injury", _("Self-harm or suicide attempt causing injury")
    OTHER = "other", _("Other harm or danger")


class MandatoryReport(models.Model):
    """A report owed to the police (强制报告). It cannot be dismissed: it stays open until it
    is completed with the time the police were told, the receiving unit and its reference."""

    child = models.ForeignKey(
        "children.Child", on_delete=models.PROTECT, related_name="mandatory_reports"
    )
    triggers = models.JSONField(_("situations"), default=list)
    description_enc = models.TextField(_("what was found (encrypted)"), blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reporter_organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    administration = models.ForeignKey(
        Administration, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    suspected = models.ManyToManyField(
        "children.FamilyMember",
        related_name="+",
        blank=True,
        verbose_name=_("family members suspected of harm"),
    )
    opened_at = models.DateTimeField(_("opened"))
    police_told_at = models.DateTimeField(_("police told at"), null=True, blank=True)
    receiving_unit = models.CharField(_("receiving police unit"), max_length=200, blank=True)
    police_reference = models.CharField(_("police reference"), max_length=100, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("mandatory report")
        verbose_name_plural = _("mandatory reports")
        indexes = [models.Index(fields=["completed_at"], name="report_completed")]

    def __str__(self) -> str:
        return f"report {self.pk}"

    @property
    def completed(self) -> bool:
        return self.completed_at is not None


class VisitPlace(models.TextChoices):
    HOME = "home", _("At the family's home")
    SCHOOL = "school", _("At school")
    VILLAGE = "village", _("At the village committee or children's home")
    ELSEWHERE = "elsewhere", _("Elsewhere")


class HomeVisit(models.Model):
    """A child director's home visit (入户走访): when and where, whom they met, what they saw
    (narrative notes, encrypted: the sensitive class), the needs assessment made there
    (an administration of the home-visit instrument, which stays the scoring engine), the
    actions agreed and the next visit. The risk engine counts the last visit from these."""

    child = models.ForeignKey(
        "children.Child", on_delete=models.PROTECT, related_name="home_visits"
    )
    visited_on = models.DateField(_("date of the visit"))
    place = models.CharField(_("place"), max_length=12, choices=VisitPlace.choices)
    place_note = models.CharField(_("where exactly"), max_length=200, blank=True)
    child_seen = models.BooleanField(_("the child was seen"), default=True)
    met = models.ManyToManyField("children.FamilyMember", related_name="+", blank=True)
    others_met = models.CharField(_("others met"), max_length=200, blank=True)
    notes_enc = models.TextField(_("what was seen (encrypted)"), blank=True)
    actions = models.TextField(_("actions agreed"), blank=True)
    next_visit_on = models.DateField(_("next visit"), null=True, blank=True)
    assessment = models.OneToOneField(
        Administration,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="home_visit",
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("recorded"))

    class Meta:
        ordering = ["-visited_on", "-id"]
        verbose_name = _("home visit")
        verbose_name_plural = _("home visits")
        indexes = [models.Index(fields=["child", "visited_on"], name="visit_child_date")]

    def __str__(self) -> str:
        return f"visit {self.pk}"
