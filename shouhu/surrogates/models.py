"""Surrogate parents (代理家长, issue 13): a trusted adult of the community — a village cadre,
a teacher, a party member, a volunteer — matched to a left-behind child under an agreement
the guardian accepted, keeping in touch on an agreed cadence (a weekly call, a monthly
visit), with a log of every contact. A missed cadence is a follow-up task for the village's
child director and a fact the risk rules read."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CommunityRole(models.TextChoices):
    VILLAGE_CADRE = "village_cadre", _("Village cadre")
    TEACHER = "teacher", _("Teacher")
    PARTY_MEMBER = "party_member", _("Party member")
    VOLUNTEER = "volunteer", _("Volunteer")
    NEIGHBOUR = "neighbour", _("Neighbour")
    OTHER = "other", _("Other")


class SurrogateParent(models.Model):
    """A person who serves as a surrogate parent, with or without a login; kept by the
    organisation that recorded them."""

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="surrogate_parents",
        verbose_name=_("organisation"),
    )
    name = models.CharField(_("name"), max_length=100)
    phone_enc = models.TextField(_("phone (encrypted)"), blank=True)  # sealed (`lib.protect`)
    community_role = models.CharField(
        _("role in the community"), max_length=16, choices=CommunityRole.choices
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="surrogate_records",
        verbose_name=_("login"),
    )
    volunteer = models.ForeignKey(
        "volunteers.Volunteer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="surrogate_records",
        verbose_name=_("volunteer record"),
    )
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["organisation", "name", "id"]
        verbose_name = _("surrogate parent")
        verbose_name_plural = _("surrogate parents")

    def __str__(self) -> str:
        return self.name


class ArrangementStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


class Arrangement(models.Model):
    """A surrogate parent matched to a child, under the agreement the guardian accepted:
    who, since when (until when, if fixed), the duties and the agreement's version."""

    child = models.ForeignKey(
        "children.Child", on_delete=models.CASCADE, related_name="surrogate_arrangements"
    )
    surrogate = models.ForeignKey(
        SurrogateParent,
        on_delete=models.PROTECT,
        related_name="arrangements",
        verbose_name=_("surrogate parent"),
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("arranged by"),
    )
    guardian = models.ForeignKey(
        "children.FamilyMember",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("guardian who agreed"),
    )
    signed_on = models.DateField(_("agreement signed on"))
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)
    duties = models.TextField(_("duties"))
    agreement_version = models.CharField(_("agreement version"), max_length=32)
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=ArrangementStatus.choices,
        default=ArrangementStatus.ACTIVE,
    )
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-since", "-id"]
        verbose_name = _("surrogate-parent arrangement")
        verbose_name_plural = _("surrogate-parent arrangements")
        constraints = [
            models.UniqueConstraint(
                fields=["child"],
                condition=models.Q(status="active"),
                name="surrogate_one_active_per_child",
            ),
            models.CheckConstraint(
                condition=models.Q(until__isnull=True) | models.Q(until__gte=models.F("since")),
                name="surrogate_until_after_since",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.surrogate_id} → child {self.child_id}"

    @property
    def is_active(self) -> bool:
        return self.status == ArrangementStatus.ACTIVE


class Mode(models.TextChoices):
    CALL = "call", _("Phone call")
    VIDEO = "video", _("Video call")
    VISIT = "visit", _("Visit in person")


# How close a contact is: a contact keeps every cadence of its own mode or a lighter one
# (a visit counts as a video call and as a call; a video call as a call).
INTENSITY: dict[str, int] = {Mode.CALL.value: 1, Mode.VIDEO.value: 2, Mode.VISIT.value: 3}


class Cadence(models.Model):
    """How often the surrogate parent keeps in touch in one way: a call every 7 days, a
    visit every 30."""

    arrangement = models.ForeignKey(Arrangement, on_delete=models.CASCADE, related_name="cadences")
    mode = models.CharField(_("how"), max_length=8, choices=Mode.choices)
    every_days = models.PositiveSmallIntegerField(_("every (days)"))

    class Meta:
        ordering = ["arrangement", "every_days", "id"]
        verbose_name = _("contact cadence")
        verbose_name_plural = _("contact cadences")
        constraints = [
            models.UniqueConstraint(fields=["arrangement", "mode"], name="cadence_mode_once"),
            models.CheckConstraint(
                condition=models.Q(every_days__gte=1, every_days__lte=366),
                name="cadence_every_days_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mode} / {self.every_days}"


class Contact(models.Model):
    """One contact between the surrogate parent and the child."""

    arrangement = models.ForeignKey(Arrangement, on_delete=models.CASCADE, related_name="contacts")
    on = models.DateField(_("date"))
    mode = models.CharField(_("how"), max_length=8, choices=Mode.choices)
    minutes = models.PositiveSmallIntegerField(_("minutes"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-on", "-id"]
        verbose_name = _("surrogate-parent contact")
        verbose_name_plural = _("surrogate-parent contacts")
        indexes = [models.Index(fields=["arrangement", "mode", "on"], name="surrogate_contact_on")]

    def __str__(self) -> str:
        return f"{self.arrangement_id} {self.mode} {self.on}"
