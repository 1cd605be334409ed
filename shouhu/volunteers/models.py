"""Volunteers (issue 13): the record the volunteer-service recording rules require (民政部
《志愿服务记录与证明出具办法》, 2021, Art. 4: basic information, service, training,
commendations, evaluations), the checks, training and agreement without which nobody
reaches a child, one-to-one supervision, service hours and their certificates.

"谁组织谁记录，谁记录谁证明": the organisation that organises the service records its hours,
approves them and certifies them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    APPLIED = "applied", _("Applied")  # checks, training and agreement still to come
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    EXITED = "exited", _("Exited")


class Volunteer(models.Model):
    """A volunteer of an organisation, with or without a login (Art. 4: basic information)."""

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="volunteers",
        verbose_name=_("organisation"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volunteer_records",
        verbose_name=_("login"),
    )
    number = models.CharField(_("volunteer number"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    sex = models.CharField(_("sex"), max_length=1, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    id_number_enc = models.TextField(blank=True)  # sealed (`lib.protect`)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    home = models.ForeignKey(
        "places.Place",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lives in"),
    )
    languages = models.CharField(_("languages and dialects"), max_length=200, blank=True)
    availability = models.CharField(_("availability"), max_length=200, blank=True)
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="coordinated_volunteers",
        verbose_name=_("coordinator"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.APPLIED
    )
    status_reason = models.CharField(_("why"), max_length=300, blank=True)
    status_since = models.DateField(_("since"))
    applied_on = models.DateField(_("applied"))
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["organisation", "number"]
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "number"], name="volunteer_number_once"
            ),
            models.UniqueConstraint(
                fields=["organisation", "user"],
                condition=models.Q(user__isnull=False),
                name="volunteer_login_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"


class CheckKind(models.TextChoices):
    IDENTITY = "identity", _("Identity verified")
    # 入职查询 (未成年人保护法 Art. 62): the inquiry into records of sexual offences, abuse,
    # trafficking or violence before anyone works in close contact with minors.
    RECORD_INQUIRY = "record_inquiry", _("Inquiry into offence records (入职查询)")


class CheckResult(models.TextChoices):
    PENDING = "pending", _("Pending")
    CLEAR = "clear", _("Clear")
    FOUND = "found", _("Record found")


class Check(models.Model):
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="checks")
    kind = models.CharField(_("check"), max_length=16, choices=CheckKind.choices)
    result = models.CharField(_("result"), max_length=8, choices=CheckResult.choices)
    checked_on = models.DateField(_("checked on"))
    expires_on = models.DateField(_("valid until"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["volunteer", "-checked_on", "-id"]
        verbose_name = _("check")
        verbose_name_plural = _("checks")

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.kind} {self.result} {self.checked_on}"


class TrainingKind(models.TextChoices):
    # Required before any work with children: child protection and the code of conduct.
    SAFEGUARDING = "safeguarding", _("Child safeguarding (required)")
    SKILLS = "skills", _("Skills")
    OTHER = "other", _("Other")


class Training(models.Model):
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="trainings")
    kind = models.CharField(_("kind"), max_length=16, choices=TrainingKind.choices)
    title = models.CharField(_("course"), max_length=200)
    completed_on = models.DateField(_("completed on"))
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=1)
    trainer = models.CharField(_("trainer"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["volunteer", "-completed_on", "-id"]
        verbose_name = _("training")
        verbose_name_plural = _("trainings")

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.title} {self.completed_on}"


class Agreement(models.Model):
    """The volunteer agreement: its version, when signed, what it covers, confidentiality."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="agreements")
    version = models.CharField(_("version"), max_length=32)
    signed_on = models.DateField(_("signed on"))
    expires_on = models.DateField(_("valid until"), null=True, blank=True)
    scope = models.CharField(_("scope of service"), max_length=300)
    confidentiality = models.BooleanField(_("confidentiality clause"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["volunteer", "-signed_on", "-id"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.version} {self.signed_on}"


class Supervision(models.Model):
    """A one-to-one supervision session by a social worker; a concern can suspend at once."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="supervisions")
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    held_on = models.DateField(_("held on"))
    topics = models.TextField(_("topics"))
    concerns = models.TextField(_("concerns"), blank=True)
    suspended = models.BooleanField(_("suspended the volunteer"), default=False)

    class Meta:
        ordering = ["volunteer", "-held_on", "-id"]
        verbose_name = _("supervision session")
        verbose_name_plural = _("supervision sessions")

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.held_on}"


class Commendation(models.Model):
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="commendations")
    title = models.CharField(_("commendation"), max_length=200)
    given_on = models.DateField(_("given on"))
    given_by = models.CharField(_("given by"), max_length=200)

    class Meta:
        ordering = ["volunteer", "-given_on"]
        verbose_name = _("commendation")
        verbose_name_plural = _("commendations")

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.title}"


class Evaluation(models.Model):
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="evaluations")
    evaluated_on = models.DateField(_("evaluated on"))
    rating = models.PositiveSmallIntegerField(_("rating (1-5)"))
    note = models.TextField(_("note"), blank=True)
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["volunteer", "-evaluated_on"]
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.evaluated_on} {self.rating}"


class HoursStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")


class Hours(models.Model):
    """Hours of service recorded by the organising unit: actual service time, without travel.
    Approved, an entry is never changed; a correction is a new adjustment entry (`adjusts`,
    minutes may be negative) with its reason."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="hours")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    activity = models.CharField(_("activity"), max_length=200)
    session = models.ForeignKey(
        "programmes.ProgrammeSession",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("programme session"),
    )
    # The activity's time (check-in and check-out, or entered); null for an adjustment.
    starts_at = models.DateTimeField(_("from"), null=True, blank=True)
    ends_at = models.DateTimeField(_("until"), null=True, blank=True)
    minutes = models.IntegerField(_("minutes of service"))
    adjusts = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="adjustments"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=HoursStatus.choices, default=HoursStatus.PENDING
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["volunteer", "starts_at", "id"]
        verbose_name = _("service hours")
        verbose_name_plural = _("service hours")
        indexes = [models.Index(fields=["volunteer", "starts_at"], name="hours_volunteer_when")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(adjusts__isnull=False) | models.Q(minutes__gt=0),
                name="hours_positive_unless_adjustment",
            ),
            models.CheckConstraint(
                condition=models.Q(adjusts__isnull=False)
                | models.Q(starts_at__isnull=False, ends_at__isnull=False),
                name="hours_have_a_time_unless_adjustment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.activity} {self.minutes} min"


class Certificate(models.Model):
    """A volunteer-service certificate (志愿服务证明) issued by the organisation; `code` opens
    its public verification page."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="certificates")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    number = models.CharField(_("certificate number"), max_length=40, unique=True)
    code = models.CharField(max_length=32, unique=True)
    period_from = models.DateField(_("service from"))
    period_to = models.DateField(_("service until"))
    minutes = models.IntegerField(_("minutes of service"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued"))

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")

    def __str__(self) -> str:
        return self.number


class MatchStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed, awaiting the decision")
    ACTIVE = "active", _("Matched")
    DECLINED = "declined", _("Declined")
    ENDED = "ended", _("Ended")


class Match(models.Model):
    """A volunteer matched to a child: proposed, then decided by a coordinator of the
    volunteer's organisation with the guardian's consent recorded. An active match opens the
    child's basic fields to the volunteer's login (a `ChildAssignment` of kind volunteer)."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="matches")
    child = models.ForeignKey(
        "children.Child", on_delete=models.CASCADE, related_name="volunteer_matches"
    )
    purpose = models.CharField(_("what the volunteer will do"), max_length=300)
    status = models.CharField(
        _("status"), max_length=10, choices=MatchStatus.choices, default=MatchStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    consent_by = models.ForeignKey(
        "children.FamilyMember",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("guardian who consented"),
    )
    consent_on = models.DateField(_("consent given on"), null=True, blank=True)
    assignment = models.OneToOneField(
        "children.ChildAssignment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("volunteer match")
        verbose_name_plural = _("volunteer matches")
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer", "child"],
                condition=models.Q(status__in=["proposed", "active"]),
                name="match_open_once",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="active")
                | models.Q(consent_by__isnull=False, consent_on__isnull=False),
                name="match_active_has_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer_id} → child {self.child_id} ({self.status})"


class Shift(models.Model):
    """A volunteer checked in for an activity and not yet checked out; checking out turns it
    into an entry of hours (pending approval) and closes it."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="shifts")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    activity = models.CharField(_("activity"), max_length=200)
    checked_in_at = models.DateTimeField(_("checked in"))
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    hours = models.OneToOneField(
        Hours, on_delete=models.PROTECT, null=True, blank=True, related_name="shift"
    )

    class Meta:
        ordering = ["-checked_in_at"]
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer"], condition=models.Q(hours__isnull=True), name="shift_open_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.activity} {self.checked_in_at}"
