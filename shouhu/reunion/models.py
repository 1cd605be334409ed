"""Parent–child online reunions (在线团聚): sites with devices and facilitators, who takes
part and when parents can call, the weekly schedule and its sessions, attendance, the
contact log, and technical-support tickets."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SiteKind(models.TextChoices):
    SCHOOL = "school", _("School room")
    CHILDREN_HOME = "children_home", _("Village children's home")
    COMMUNITY = "community", _("Community centre")
    OTHER = "other", _("Other")


class Site(models.Model):
    """A reunion room: a school room, a village 儿童之家, a community centre."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=16, choices=SiteKind.choices, default=SiteKind.SCHOOL
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="reunion_sites",
        verbose_name=_("managed by"),
    )
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    address = models.CharField(_("address"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("reunion site")
        verbose_name_plural = _("reunion sites")

    def __str__(self) -> str:
        return self.name


class DeviceStatus(models.TextChoices):
    WORKING = "working", _("Working")
    BROKEN = "broken", _("Out of order")
    RETIRED = "retired", _("Retired")


class Device(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="devices")
    label = models.CharField(_("label"), max_length=50)
    kind = models.CharField(_("kind"), max_length=50, default="tablet")
    status = models.CharField(
        _("status"), max_length=10, choices=DeviceStatus.choices, default=DeviceStatus.WORKING
    )

    class Meta:
        ordering = ["site", "label"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        constraints = [models.UniqueConstraint(fields=["site", "label"], name="device_label")]

    def __str__(self) -> str:
        return f"{self.site_id}/{self.label}"


class Weekday(models.IntegerChoices):
    MON = 1, _("Monday")
    TUE = 2, _("Tuesday")
    WED = 3, _("Wednesday")
    THU = 4, _("Thursday")
    FRI = 5, _("Friday")
    SAT = 6, _("Saturday")
    SUN = 7, _("Sunday")


class Window(models.Model):
    """A weekly window (day, start, end): a site's opening hours, a facilitator's or a
    parent's availability. Exactly one owner is set."""

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, null=True, blank=True, related_name="openings"
    )
    facilitator = models.ForeignKey(
        "Facilitator", on_delete=models.CASCADE, null=True, blank=True, related_name="windows"
    )
    parent = models.ForeignKey(
        "ParentAvailability",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="windows",
    )
    day = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    class Meta:
        ordering = ["day", "start"]
        verbose_name = _("window")
        verbose_name_plural = _("windows")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="window_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.start:%H:%M}-{self.end:%H:%M}"


class Facilitator(models.Model):
    """A teacher, cadre or volunteer who runs the room at a site."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="facilitators")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reunion_sites"
    )
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("facilitator")
        verbose_name_plural = _("facilitators")
        constraints = [models.UniqueConstraint(fields=["site", "user"], name="facilitator_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} at {self.site_id}"


class Participant(models.Model):
    """A child taking part: the sites they can reach, sessions needed a week, priority."""

    child = models.OneToOneField("children.Child", on_delete=models.CASCADE, related_name="reunion")
    sites = models.ManyToManyField(Site, related_name="participants")
    sessions_per_week = models.PositiveSmallIntegerField(_("sessions a week"), default=1)
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=3, help_text=_("1 highest, 3 lowest")
    )
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")

    def __str__(self) -> str:
        return f"participant {self.child_id}"


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    PHONE = "phone", _("Phone call")


class ParentAvailability(models.Model):
    """When a parent away can take a call (shift workers change: editable by the child
    director or the facilitator after a phone call), and how to reach them."""

    member = models.OneToOneField(
        "children.FamilyMember", on_delete=models.CASCADE, related_name="reunion_availability"
    )
    channel = models.CharField(
        _("preferred channel"), max_length=8, choices=Channel.choices, default=Channel.WECHAT
    )
    updated_at = models.DateTimeField(_("updated"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("parent availability")
        verbose_name_plural = _("parent availabilities")

    def __str__(self) -> str:
        return f"availability of {self.member_id}"


class Schedule(models.Model):
    """One week's plan for a county (or any set of sites), with the solver's figures."""

    week_start = models.DateField(_("week of"))  # a Monday
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("planned"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    stats = models.JSONField(_("solver figures"), default=dict)
    unserved = models.JSONField(_("children not served"), default=list)

    class Meta:
        ordering = ["-week_start", "-id"]
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")

    def __str__(self) -> str:
        return f"week of {self.week_start}"


class SessionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")


class Session(models.Model):
    """One family session: a device at a site in one slot, with its video room."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="sessions")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="sessions")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="sessions")
    starts_at = models.DateTimeField(_("starts"))
    minutes = models.PositiveSmallIntegerField(_("minutes"))
    children = models.ManyToManyField("children.Child", related_name="reunion_sessions")
    room = models.CharField(_("video room"), max_length=100, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=SessionStatus.choices, default=SessionStatus.PLANNED
    )
    cancel_reason = models.CharField(_("reason"), max_length=200, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "site", "device"]
        verbose_name = _("reunion session")
        verbose_name_plural = _("reunion sessions")
        indexes = [models.Index(fields=["site", "starts_at"], name="session_site_start")]

    def __str__(self) -> str:
        return f"session {self.pk}"


class UnservedReason(models.TextChoices):
    """Why the re-planning found a child no new time."""

    NOT_ENROLLED = "not_enrolled", _("not enrolled at an active site")
    NO_DEVICE = "no_device", _("no working device at the child's sites")
    NO_PARENT_TIMES = "no_parent_times", _("no call times recorded for a parent")
    NO_TIME = "no_time", _("no time left this week suits a parent, a facilitator and the site")
    ALL_TAKEN = "all_taken", _("every suitable time left this week is taken")
    PLANNER_FAILED = "planner_failed", _("the planner failed; please report this problem")


class Rebooking(models.Model):
    """What became of one child of a cancelled session: the new session the re-planning
    found, or none and why (so nobody silently drops out of the week)."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="rebookings")
    child = models.ForeignKey("children.Child", on_delete=models.CASCADE, related_name="+")
    new_session = models.ForeignKey(
        Session, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("why it was cancelled"), max_length=200)
    unserved_reason = models.CharField(
        _("why no new time"), max_length=20, choices=UnservedReason.choices, blank=True
    )
    created_at = models.DateTimeField(_("re-planned"))

    class Meta:
        ordering = ["session__starts_at", "child_id"]
        verbose_name = _("rebooking")
        verbose_name_plural = _("rebookings")
        constraints = [
            models.UniqueConstraint(fields=["session", "child"], name="rebooking_unique")
        ]

    def __str__(self) -> str:
        return f"{self.child_id} from {self.session_id} to {self.new_session_id}"


class Feeling(models.IntegerChoices):
    """The five-face scale a child taps after the call."""

    VERY_SAD = 1, _("Very sad")
    SAD = 2, _("Sad")
    OK = 3, _("All right")
    HAPPY = 4, _("Happy")
    VERY_HAPPY = 5, _("Very happy")


class Attendance(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendance")
    child = models.ForeignKey("children.Child", on_delete=models.CASCADE, related_name="+")
    present = models.BooleanField(_("child came"))
    parent_joined = models.BooleanField(_("parent joined"))
    minutes = models.PositiveSmallIntegerField(_("minutes talked"), default=0)
    quality_problems = models.CharField(_("quality problems"), max_length=200, blank=True)
    no_show_reason = models.CharField(_("why not"), max_length=200, blank=True)
    feeling = models.PositiveSmallIntegerField(
        _("how the child feels"), choices=Feeling.choices, null=True, blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"))

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(fields=["session", "child"], name="attendance_unique")
        ]

    def __str__(self) -> str:
        return f"{self.child_id} at {self.session_id}"


class ContactMode(models.TextChoices):
    REUNION = "reunion", _("Online reunion")
    CALL = "call", _("Phone or video call")
    PARENT_VISIT = "parent_visit", _("Parent visited home")
    CHILD_VISIT = "child_visit", _("Child visited the parents")


IN_PERSON = (ContactMode.PARENT_VISIT, ContactMode.CHILD_VISIT)


class Contact(models.Model):
    """The contact log: every contact of a child with a parent away."""

    child = models.ForeignKey("children.Child", on_delete=models.CASCADE, related_name="contacts")
    member = models.ForeignKey(
        "children.FamilyMember",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("parent"),
    )
    mode = models.CharField(_("kind"), max_length=16, choices=ContactMode.choices)
    on = models.DateField(_("date"))
    minutes = models.PositiveIntegerField(_("minutes"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    session = models.ForeignKey(
        Session, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-on", "-id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [models.Index(fields=["child", "mode", "on"], name="contact_child_mode_on")]

    def __str__(self) -> str:
        return f"{self.mode} {self.on}"


class TicketStatus(models.TextChoices):
    OPEN = "open", _("Open")
    TAKEN = "taken", _("Taken")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class Ticket(models.Model):
    """A device or connection fault. Technology envoys see the queue and the site, never a
    child; an open ticket on a device keeps it out of the schedule."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="tickets")
    device = models.ForeignKey(
        Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets"
    )
    problem = models.TextField(_("problem"))
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(_("reported"))
    status = models.CharField(
        _("status"), max_length=10, choices=TicketStatus.choices, default=TicketStatus.OPEN
    )
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    taken_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolution = models.TextField(_("what was done"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["status", "reported_at", "id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [models.Index(fields=["status", "site"], name="ticket_status_site")]

    def __str__(self) -> str:
        return f"ticket {self.pk}"
