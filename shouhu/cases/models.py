"""The social-work case process around one child, run by several organisations: intake,
assessment, plan, services, review, closure; follow-up tasks; notes, conferences,
external referrals and transfers (seeds 000 and 002)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    SERVICE = "service", _("Found in service")
    FAMILY = "family_referral", _("Referred by the family")
    SCHOOL = "school_referral", _("Referred by a school")
    COMMUNITY = "community_referral", _("Referred by the village or community committee")
    SELF = "self", _("Self-referral")
    HOTLINE = "hotline", _("Hotline")
    SCREENING = "screening_alert", _("Screening alert")
    MANDATORY = "mandatory_report", _("Mandatory report")


class Urgency(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    CRISIS = "crisis", _("Crisis")


class ConsentBasis(models.TextChoices):
    GUARDIAN = "guardian", _("Guardian's consent")
    CHILD = "child", _("The child's own request")
    LEGAL = "legal_basis", _("Legal basis (protection duty)")
    NONE = "none", _("Not yet")


class IntakeStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a decision")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class Intake(models.Model):
    """A child brought to an organisation's attention, accepted or declined with a reason."""

    child = models.ForeignKey("children.Child", on_delete=models.PROTECT, related_name="intakes")
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="intakes",
        verbose_name=_("receiving organisation"),
    )
    channel = models.CharField(_("channel"), max_length=24, choices=Channel.choices)
    reason = models.TextField(_("reason"))
    urgency = models.CharField(
        _("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL
    )
    consent = models.CharField(
        _("consent"), max_length=12, choices=ConsentBasis.choices, default=ConsentBasis.NONE
    )
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    referrer_name = models.CharField(
        _("referred by (outside the system)"), max_length=100, blank=True
    )
    created_at = models.DateTimeField(_("received"))
    status = models.CharField(
        _("status"), max_length=10, choices=IntakeStatus.choices, default=IntakeStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("intake")
        verbose_name_plural = _("intakes")
        indexes = [models.Index(fields=["organisation", "status"], name="intake_org_status")]

    def __str__(self) -> str:
        return f"intake {self.pk}"


class Stage(models.TextChoices):
    INTAKE = "intake", _("Intake")
    ASSESSMENT = "assessment", _("Assessment")
    PLAN = "plan", _("Plan")
    SERVICES = "services", _("Services")
    REVIEW = "review", _("Review")
    CLOSED = "closed", _("Closed")


class Case(models.Model):
    """One organisation's work with one child (at most one open case per organisation)."""

    child = models.ForeignKey("children.Child", on_delete=models.PROTECT, related_name="cases")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="cases"
    )
    intake = models.ForeignKey(
        Intake, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="led_cases",
        verbose_name=_("lead worker"),
    )
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.INTAKE)
    urgency = models.CharField(
        _("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL
    )
    opened_at = models.DateTimeField(_("opened"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=32, blank=True)
    closure_reason = models.TextField(_("closure reason"), blank=True)
    version = models.PositiveIntegerField(default=1)  # optimistic versioning of case + plan
    pending_approval = models.CharField(_("waiting for approval of"), max_length=12, blank=True)
    # The child's village code, copied (and kept in step when the child moves) so that the
    # area views of supervisors and officials filter cases without joining the registry.
    residence = models.CharField(max_length=12, editable=False)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(
                fields=["child", "organisation"],
                condition=~models.Q(stage="closed"),
                name="case_one_open_per_org",
            )
        ]
        indexes = [
            models.Index(fields=["organisation", "stage"], name="case_org_stage"),
            models.Index(fields=["lead", "stage"], name="case_lead_stage"),
            models.Index(fields=["child", "stage"], name="case_child_stage"),
            models.Index(
                fields=["-opened_at", "-id"],
                name="case_open_opened",
                condition=~models.Q(stage="closed"),
            ),
            # Caseloads of an area: an index-only scan over the open cases.
            models.Index(
                fields=["residence", "lead", "organisation"],
                name="case_open_area_lead",
                condition=~models.Q(stage="closed"),
            ),
        ]

    def __str__(self) -> str:
        return f"case {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.stage != Stage.CLOSED


class Outcome(models.TextChoices):
    """How a case ended (`Case.outcome`)."""

    GOALS_MET = "goals_met", _("Goals met")
    PARTLY_MET = "partly_met", _("Goals partly met")
    MOVED_AWAY = "moved_away", _("Family moved away")
    TRANSFERRED = "transferred", _("Transferred to another organisation")
    FAMILY_DECLINED = "family_declined", _("Family declined further service")
    OTHER = "other", _("Other")


class CaseRole(models.TextChoices):
    WORKER = "worker", _("Social worker")
    COUNSELLOR = "counsellor", _("Counsellor")
    VOLUNTEER = "volunteer", _("Volunteer")
    SUPERVISOR = "supervisor", _("Supervisor")


class CaseMember(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=12, choices=CaseRole.choices)
    added_at = models.DateTimeField(_("added"))
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("case member")
        verbose_name_plural = _("case members")
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="case_member_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} in case {self.case_id}"


class StageChange(models.Model):
    """Every stage a case entered, with when, who and why (reopening included)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="stage_changes")
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices)
    at = models.DateTimeField(_("time"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")

    def __str__(self) -> str:
        return f"{self.case_id} → {self.stage}"


class CasePolicy(models.Model):
    """An organisation's rules: whether plans and closures need a supervisor's approval, and
    who approves (when nobody is named, the township supervisors of the child's place)."""

    organisation = models.OneToOneField(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="case_policy"
    )
    plan_needs_approval = models.BooleanField(_("plans need approval"), default=True)
    closure_needs_approval = models.BooleanField(_("closures need approval"), default=True)
    approvers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True)

    class Meta:
        verbose_name = _("case policy")
        verbose_name_plural = _("case policies")

    def __str__(self) -> str:
        return f"policy of {self.organisation_id}"


class Approval(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="approvals")
    subject = models.CharField(_("approval of"), max_length=12)  # plan | closure
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    approved = models.BooleanField(_("approved"), null=True)
    note = models.TextField(_("note"), blank=True)
    # What closure was asked for (applied when approved).
    outcome = models.CharField(max_length=32, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")

    def __str__(self) -> str:
        return f"{self.subject} approval for case {self.case_id}"


class Domain(models.TextChoices):
    """The strengths-based goal areas of the seeds' individual service plan."""

    SELF = "self_concept", _("Self-concept")
    FAMILY = "family_bonds", _("Family bonds")
    PEERS = "peer_network", _("Peer network")
    SCHOOL = "school_community", _("School and community support")
    SAFETY = "safety", _("Safety and guardianship")


class GoalStatus(models.TextChoices):
    OPEN = "open", _("Working on it")
    MET = "met", _("Met")
    PARTLY = "partly", _("Partly met")
    NOT_MET = "not_met", _("Not met")
    DROPPED = "dropped", _("Dropped")


class Goal(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="goals")
    domain = models.CharField(_("area"), max_length=20, choices=Domain.choices)
    description = models.TextField(_("goal"))
    strengths = models.TextField(_("strengths to build on"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=GoalStatus.choices, default=GoalStatus.OPEN
    )
    review_note = models.TextField(_("review"), blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("goal")
        verbose_name_plural = _("goals")

    def __str__(self) -> str:
        return self.description[:50]


class Owner(models.TextChoices):
    """Who carries an action: the family-school-community network of the seeds."""

    FAMILY = "family", _("Family")
    SCHOOL = "school", _("School")
    COMMUNITY = "community", _("Community")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    VOLUNTEER = "volunteer", _("Volunteer")


class ActionStatus(models.TextChoices):
    TODO = "todo", _("To do")
    DOING = "doing", _("In progress")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


class PlanAction(models.Model):
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="actions")
    description = models.TextField(_("action"))
    owner = models.CharField(_("carried by"), max_length=16, choices=Owner.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_on = models.DateField(_("due"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=ActionStatus.choices, default=ActionStatus.TODO
    )

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("plan action")
        verbose_name_plural = _("plan actions")

    def __str__(self) -> str:
        return self.description[:50]


class ServiceType(models.Model):
    """The configurable catalogue of services (seeded with the common ones)."""

    code = models.CharField(max_length=32, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("service type")
        verbose_name_plural = _("service types")

    def __str__(self) -> str:
        return self.code

    def label(self) -> str:
        """The name in the language of the page."""
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh


class ServiceRecord(models.Model):
    """A service delivered (person-times are counted from these)."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="services"
    )
    child = models.ForeignKey(
        "children.Child", on_delete=models.PROTECT, related_name="services_received"
    )
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("provider"),
    )
    delivered_on = models.DateField(_("date"))
    minutes = models.PositiveIntegerField(_("duration (minutes)"))
    participants = models.PositiveIntegerField(_("participants"), default=1)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    # Set when another organisation gave the child the same service within the duplication
    # window (`services.DUPLICATE_DAYS`): computed when a service is recorded.
    duplicate = models.BooleanField(_("possible duplicate"), default=False, editable=False)
    residence = models.CharField(max_length=12, editable=False)  # the child's village

    class Meta:
        ordering = ["-delivered_on", "-id"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        indexes = [
            models.Index(fields=["child", "delivered_on"], name="service_child_date"),
            models.Index(fields=["delivered_on", "service_type"], name="service_date_type"),
            models.Index(
                fields=["residence", "delivered_on"],
                name="service_duplicates_area",
                condition=models.Q(duplicate=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_type_id} for {self.child_id}"


class CaseNote(models.Model):
    """A case note: sensitive, encrypted at rest, read only by the case's workers."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField(_("written"))
    text_enc = models.TextField(_("note (encrypted)"))

    class Meta:
        ordering = ["-written_at", "-id"]
        verbose_name = _("case note")
        verbose_name_plural = _("case notes")

    def __str__(self) -> str:
        return f"note {self.pk}"


class Conference(models.Model):
    """A case conference of several organisations and its decisions."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="conferences")
    held_on = models.DateField(_("date"))
    organisations = models.ManyToManyField("accounts.Organisation", related_name="+")
    participants = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True)
    decisions = models.TextField(_("decisions"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("case conference")
        verbose_name_plural = _("case conferences")

    def __str__(self) -> str:
        return f"conference {self.pk}"


class ResourceKind(models.TextChoices):
    LEGAL = "legal_aid", _("Legal aid")
    CLINIC = "clinic", _("Clinic or hospital")
    MENTAL = "mental_health", _("Mental-health service")
    SCHOOL = "school", _("School")
    CHARITY = "charity", _("Charity")
    OTHER = "other", _("Other")


class Resource(models.Model):
    """The directory of local resources outside the system."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=ResourceKind.choices)
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    services = models.TextField(_("what they offer"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("resource")
        verbose_name_plural = _("resources")

    def __str__(self) -> str:
        return self.name


class ReferralOutcome(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RECEIVED = "received", _("Service received")
    REFUSED = "refused", _("Refused by the resource")
    DROPPED = "dropped", _("Family did not go")


class ExternalReferral(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="external_referrals")
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    referred_on = models.DateField(_("referred"))
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=ReferralOutcome.choices, default="pending"
    )
    outcome_on = models.DateField(_("outcome date"), null=True, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-referred_on", "-id"]
        verbose_name = _("external referral")
        verbose_name_plural = _("external referrals")

    def __str__(self) -> str:
        return f"referral {self.pk}"


class TransferKind(models.TextChoices):
    REFERRAL = "referral", _("Referral (both organisations keep working)")
    TRANSFER = "transfer", _("Transfer (the case moves)")


class Transfer(models.Model):
    """A case referred or transferred to another organisation in the system."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transfers")
    kind = models.CharField(_("kind"), max_length=10, choices=TransferKind.choices)
    to_organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested"))
    status = models.CharField(
        _("status"), max_length=10, choices=IntakeStatus.choices, default=IntakeStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    new_case = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"
