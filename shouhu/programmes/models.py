"""Programmes (issue 12): the funded projects (政府购买服务) that run group work, the catalogue
of activity and course designs, a programme's sessions, who is enrolled, the roll call, and
one-to-one counselling.

Progress against a project's targets is always computed from these records, never typed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Project(models.Model):
    """A funded project: who pays, who runs it, when, where, for whom, with what targets."""

    name = models.CharField(_("name"), max_length=200)
    funder = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="funded_projects",
        verbose_name=_("funder"),
    )
    implementer = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="run_projects",
        verbose_name=_("implementing organisation"),
    )
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    # The area it serves: places (a county, townships, villages) whose children count.
    places = models.ManyToManyField("places.Place", related_name="+", verbose_name=_("area"))
    # Categories of children it serves (`shouhu.lib.categories.CATEGORY_CODES`).
    target_groups = models.JSONField(_("target groups"), default=list)
    budget = models.DecimalField(
        _("budget (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-starts_on", "name"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="project_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Measure(models.TextChoices):
    PERSON_TIMES = "person_times", _("Service person-times")
    COVERAGE = "coverage", _("Coverage of the target group (%)")
    COUNSELLING = "counselling", _("One-to-one counselling sessions")
    CHILD_ACTIVITIES = "child_activities", _("Child activities held")
    CAREGIVER_EVENTS = "caregiver_events", _("Caregiver events held")
    MATERIALS = "materials", _("Materials handed out")


class Target(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="targets")
    measure = models.CharField(_("measure"), max_length=20, choices=Measure.choices)
    value = models.DecimalField(_("target"), max_digits=12, decimal_places=1)

    class Meta:
        ordering = ["project", "measure"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.UniqueConstraint(fields=["project", "measure"], name="target_one_per_measure"),
            models.CheckConstraint(condition=models.Q(value__gt=0), name="target_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.measure} {self.value}"


class Milestone(models.Model):
    """A stage of the project accepted by the funder (阶段验收)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("stage"), max_length=200)
    due_on = models.DateField(_("due"))
    accepted_on = models.DateField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    note = models.TextField(_("acceptance note"), blank=True)

    class Meta:
        ordering = ["project", "due_on", "id"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")

    def __str__(self) -> str:
        return self.title


class Kind(models.TextChoices):
    GROUP_ACTIVITY = "group_activity", _("Group activity")
    CAREGIVER_COURSE = "caregiver_course", _("Caregiver course")
    GROUP_COUNSELLING = "group_counselling", _("Group counselling")
    AFTER_SCHOOL = "after_school", _("After-school care")
    INTEREST_GROUP = "interest_group", _("Interest group")
    PEER_GROUP = "peer_group", _("Peer or mutual-aid group")
    COMMUNITY_FORUM = "community_forum", _("Community forum")
    PUBLICITY = "publicity", _("Publicity event")


# Kinds whose participants are the children's caregivers (household members), not children.
CAREGIVER_KINDS = frozenset({Kind.CAREGIVER_COURSE})


class Design(models.Model):
    """An activity or course design in the catalogue: shipped (no organisation) or an
    organisation's own."""

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="programme_designs",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    hours_min = models.PositiveSmallIntegerField(_("class hours (from)"), default=1)
    hours_max = models.PositiveSmallIntegerField(_("class hours (to)"), default=1)
    content = models.TextField(_("content"), blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        ordering = ["kind", "id"]
        verbose_name = _("activity design")
        verbose_name_plural = _("activity designs")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hours_max__gte=models.F("hours_min")),
                name="design_hours_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Programme(models.Model):
    """A run of a design: a course or a series of sessions, with its participants."""

    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="programmes",
        verbose_name=_("project"),
    )
    design = models.ForeignKey(
        Design, on_delete=models.PROTECT, related_name="programmes", verbose_name=_("design")
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="programmes",
        verbose_name=_("organiser"),
    )
    title = models.CharField(_("title"), max_length=200)
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    # A pre/post measurement (an enabled screening instrument), if the programme has one.
    instrument = models.CharField(_("pre/post instrument"), max_length=40, blank=True)
    # The area column of the organiser's jurisdiction: area reports without a join.
    residence = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-starts_on", "title"]
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="programme_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.title


class SessionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class VenueKind(models.TextChoices):
    VILLAGE = "village", _("Village")
    SCHOOL = "school", _("School")
    REUNION_SITE = "reunion_site", _("Reunion site")
    OTHER = "other", _("Other venue")


class ProgrammeSession(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField(_("starts"))
    minutes = models.PositiveIntegerField(_("minutes"))
    venue_kind = models.CharField(
        _("venue"), max_length=16, choices=VenueKind.choices, default=VenueKind.VILLAGE
    )
    place = models.ForeignKey(
        "places.Place", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    venue = models.CharField(_("venue (in words)"), max_length=200, blank=True)
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="programme_sessions", blank=True
    )
    speakers = models.CharField(_("external speakers"), max_length=300, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=SessionStatus.choices, default=SessionStatus.PLANNED
    )
    cancel_reason = models.CharField(_("why cancelled"), max_length=300, blank=True)
    # Publicity events: how many brochures or posters were handed out.
    quantity = models.PositiveIntegerField(_("materials handed out"), default=0)
    residence = models.CharField(max_length=12, editable=False)
    # Attendances present or late: the session's headcount, kept by the roll call
    # (`attendance.roll_call`) so that a month's report sums sessions, not attendances.
    attended = models.PositiveIntegerField(_("attended"), default=0, editable=False)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("programme session")
        verbose_name_plural = _("programme sessions")
        indexes = [models.Index(fields=["residence", "starts_at"], name="psession_area_when")]
        constraints = [
            models.CheckConstraint(condition=models.Q(minutes__gt=0), name="psession_minutes")
        ]

    def __str__(self) -> str:
        return f"{self.programme_id} {self.starts_at:%Y-%m-%d %H:%M}"


class EnrolmentStatus(models.TextChoices):
    ENROLLED = "enrolled", _("Enrolled")
    WAITING = "waiting", _("On the waiting list")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Enrolment(models.Model):
    """A participant of a programme: a child, or a caregiver (a household member, who is not
    a user)."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="enrolments")
    child = models.ForeignKey(
        "children.Child",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="enrolments",
    )
    member = models.ForeignKey(
        "children.FamilyMember",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="enrolments",
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=EnrolmentStatus.choices,
        default=EnrolmentStatus.ENROLLED,
    )
    walk_in = models.BooleanField(_("walk-in"), default=False)
    enrolled_at = models.DateTimeField(_("enrolled"))
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["programme", "id"]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(child__isnull=False) & models.Q(member__isnull=True))
                | (models.Q(child__isnull=True) & models.Q(member__isnull=False)),
                name="enrolment_child_or_member",
            ),
            models.UniqueConstraint(
                fields=["programme", "child"],
                condition=models.Q(child__isnull=False),
                name="enrolment_child_once",
            ),
            models.UniqueConstraint(
                fields=["programme", "member"],
                condition=models.Q(member__isnull=False),
                name="enrolment_member_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme_id}: {self.child_id or self.member_id}"


class Presence(models.TextChoices):
    PRESENT = "present", _("Present")
    LATE = "late", _("Late")
    ABSENT = "absent", _("Absent")
    EXCUSED = "excused", _("Excused")


# Who counts as served at a session (a person-time): present, or late but there.
ATTENDED = (Presence.PRESENT, Presence.LATE)


class Attendance(models.Model):
    session = models.ForeignKey(
        ProgrammeSession, on_delete=models.CASCADE, related_name="attendances"
    )
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="attendances")
    status = models.CharField(_("attendance"), max_length=8, choices=Presence.choices)
    recorded_at = models.DateTimeField(_("recorded"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["session", "enrolment"]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        constraints = [
            models.UniqueConstraint(fields=["session", "enrolment"], name="attendance_once")
        ]

    def __str__(self) -> str:
        return f"{self.session_id} {self.enrolment_id} {self.status}"


class Mode(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    PHONE = "phone", _("Phone")
    VIDEO = "video", _("Video")


class Concern(models.TextChoices):
    EMOTIONS = "emotions", _("Emotions (low mood, worry, anger)")
    FAMILY = "family", _("Family relationships")
    PEERS = "peers", _("Friends and bullying")
    SCHOOL = "school", _("School and learning")
    SEPARATION = "separation", _("Missing parents away")
    SELF = "self", _("Self-esteem")
    BEHAVIOUR = "behaviour", _("Behaviour")
    GRIEF = "grief", _("Loss and grief")
    SAFETY = "safety", _("Safety")
    OTHER = "other", _("Other")


class Counselling(models.Model):
    """A one-to-one counselling session. The notes are sensitive: the counsellor and the
    child's case worker read them."""

    child = models.ForeignKey(
        "children.Child", on_delete=models.CASCADE, related_name="counselling"
    )
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="counselling_given"
    )
    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="counselling",
        verbose_name=_("project"),
    )
    held_on = models.DateField(_("date"))
    minutes = models.PositiveIntegerField(_("minutes"))
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices)
    concern = models.CharField(_("presenting concern"), max_length=12, choices=Concern.choices)
    notes_enc = models.TextField(_("notes (encrypted)"), blank=True)
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    residence = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(_("recorded"))

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("counselling session")
        verbose_name_plural = _("counselling sessions")
        indexes = [
            models.Index(fields=["project", "held_on"], name="counselling_project_day"),
            models.Index(fields=["residence", "held_on"], name="counselling_area_day"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(minutes__gt=0), name="counselling_minutes")
        ]

    def __str__(self) -> str:
        return f"{self.child_id} {self.held_on}"


class Served(models.Model):
    """Pre-aggregated service of a project: per participant and month, the sessions attended
    (present or late) and the counselling sessions received. Kept by the roll call and by
    counselling (`programmes.served`), so that the project's figures and breakdowns read a
    few thousand rows instead of a million attendances. `shouhu programmes reaggregate`
    rebuilds it from the records."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # the first day of the month, Asia/Shanghai
    # "c<child id>" or "m<member id>": one key for the upsert (one participant, one row).
    person = models.CharField(max_length=24)
    child = models.ForeignKey(
        "children.Child", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    member = models.ForeignKey(
        "children.FamilyMember", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    attended = models.PositiveIntegerField(default=0)
    counselled = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("service month")
        verbose_name_plural = _("service months")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "month", "person"], name="served_once_a_month"
            ),
            models.CheckConstraint(
                condition=(models.Q(child__isnull=False) & models.Q(member__isnull=True))
                | (models.Q(child__isnull=True) & models.Q(member__isnull=False)),
                name="served_child_or_member",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.month:%Y-%m} {self.person}"
