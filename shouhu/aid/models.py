"""Sponsors and aid (issue 13): who gives (`Sponsor`, `Pledge`), the aid schemes an
organisation runs (`Scheme`), a child's `Application` to a scheme and its decision, what was
paid or handed over (`Disbursement`) and what came of it (`FollowUp`).

Money is `Decimal` in yuan with two places (fen), never float; sums are made in the database.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SponsorKind(models.TextChoices):
    PERSON = "person", _("Person")
    COMPANY = "company", _("Company")
    FOUNDATION = "foundation", _("Foundation")


class Sponsor(models.Model):
    """Someone who gives, managed by one organisation (its people record the pledges)."""

    kind = models.CharField(_("kind of sponsor"), max_length=16, choices=SponsorKind.choices)
    name = models.CharField(_("name"), max_length=200)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="sponsors",
        verbose_name=_("managed by"),
    )
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("sponsor")
        verbose_name_plural = _("sponsors")

    def __str__(self) -> str:
        return self.name


class AidKind(models.TextChoices):
    EDUCATION = "education", _("Education")
    LIVING = "living", _("Living costs")
    MEDICAL = "medical", _("Medical")
    IN_KIND = "in_kind", _("In kind")


class Scheme(models.Model):
    """An aid scheme an organisation runs (a 流动书桌-style scholarship, say): what kind of
    aid, for whom, how much per child, for which period."""

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="aid_schemes",
        verbose_name=_("organisation"),
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind of aid"), max_length=16, choices=AidKind.choices)
    criteria = models.TextField(_("criteria"), blank=True)
    amount = models.DecimalField(_("amount per child (yuan)"), max_digits=12, decimal_places=2)
    starts_on = models.DateField(_("period starts"))
    ends_on = models.DateField(_("period ends"))
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-starts_on", "name", "id"]
        verbose_name = _("aid scheme")
        verbose_name_plural = _("aid schemes")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="scheme_period_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="scheme_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PledgeForm(models.TextChoices):
    MONEY = "money", _("Money")
    IN_KIND = "in_kind", _("In kind")


class Recurrence(models.TextChoices):
    ONCE = "once", _("One-off")
    MONTHLY = "monthly", _("Every month")
    QUARTERLY = "quarterly", _("Every quarter")
    TERM = "term", _("Every school term")
    YEARLY = "yearly", _("Every year")


class Pledge(models.Model):
    """What a sponsor promised: money (an amount) or goods (items), once or every period,
    optionally to one scheme."""

    sponsor = models.ForeignKey(Sponsor, on_delete=models.CASCADE, related_name="pledges")
    form = models.CharField(_("form"), max_length=16, choices=PledgeForm.choices)
    amount = models.DecimalField(
        _("amount (yuan)"), null=True, blank=True, max_digits=12, decimal_places=2
    )
    items = models.TextField(_("items"), blank=True)
    recurrence = models.CharField(
        _("how often"), max_length=16, choices=Recurrence.choices, default=Recurrence.ONCE
    )
    scheme = models.ForeignKey(
        Scheme,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pledges",
        verbose_name=_("scheme"),
    )
    pledged_on = models.DateField(_("pledged on"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["sponsor", "-pledged_on", "id"]
        verbose_name = _("pledge")
        verbose_name_plural = _("pledges")

    def __str__(self) -> str:
        return f"{self.sponsor_id} {self.form} {self.amount or self.items}"


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Application(models.Model):
    """A child's application to a scheme, made by a worker who sees the child, decided by a
    named reviewer of the scheme's organisation."""

    scheme = models.ForeignKey(
        Scheme, on_delete=models.PROTECT, related_name="applications", verbose_name=_("scheme")
    )
    child = models.ForeignKey(
        "children.Child", on_delete=models.PROTECT, related_name="aid_applications"
    )
    reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    submitted_at = models.DateTimeField(_("submitted"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewer"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    approved_amount = models.DecimalField(
        _("approved amount (yuan)"),
        null=True,
        blank=True,
        max_digits=12,
        decimal_places=2,
    )

    class Meta:
        ordering = ["-submitted_at", "id"]
        verbose_name = _("aid application")
        verbose_name_plural = _("aid applications")
        constraints = [
            # One open or approved application per child and scheme (a rejected one may be
            # followed by a new one).
            models.UniqueConstraint(
                fields=["scheme", "child"],
                condition=~models.Q(status="rejected"),
                name="application_one_live_per_scheme",
            ),
        ]
        indexes = [models.Index(fields=["child"], name="application_child")]

    def __str__(self) -> str:
        return f"{self.scheme_id}/{self.child_id} {self.status}"


class Method(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CASH = "cash", _("Cash")
    IN_KIND = "in_kind", _("In kind")
    SCHOOL_FEE = "school_fee", _("Paid to the school")


class Disbursement(models.Model):
    """Money paid or goods handed over under an approved application. The child, scheme and
    kind of aid are the application's, copied so that the double-aid rule and the sponsor
    report read one table (they never change after the application)."""

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="disbursements"
    )
    child = models.ForeignKey("children.Child", on_delete=models.PROTECT, related_name="+")
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind of aid"), max_length=16, choices=AidKind.choices)
    paid_on = models.DateField(_("date"))
    amount = models.DecimalField(
        _("amount (yuan)"), null=True, blank=True, max_digits=12, decimal_places=2
    )
    items = models.TextField(_("items"), blank=True)
    method = models.CharField(_("how paid"), max_length=16, choices=Method.choices)
    receipt_ref = models.CharField(_("receipt reference"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"))
    # The child's village code, copied (and kept in step when the child moves), and the
    # child's household (a child never changes household), so that the coordination board
    # of an area reads the payments and tests the household's 低保/特困 without joining the
    # registry's children.
    residence = models.CharField(max_length=12, editable=False)
    household = models.ForeignKey(
        "children.Household",
        on_delete=models.PROTECT,
        null=True,  # filled for the rows before it by a data migration; set on every new one
        editable=False,
        related_name="+",
        db_index=False,  # the board reads it from disbursement_area_paid
    )
    # The double-aid rule holds for this payment: another scheme whose period overlaps gave
    # the child the same kind of aid, or it is living aid to a household on 低保/特困. Set
    # when a payment is recorded and when the child's facts change (`services.reflag`), so
    # that the board reads the few flagged payments of its area.
    double = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["paid_on", "id"]
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gte=0),
                name="disbursement_amount_positive",
            )
        ]
        indexes = [
            # The double-aid rule: a child's aid of one kind in a span of dates.
            models.Index(fields=["child", "kind", "paid_on"], name="disbursement_child_kind"),
            # The window's payments, and the sponsor report's per scheme.
            models.Index(fields=["paid_on", "kind"], name="disbursement_paid_kind"),
            models.Index(fields=["scheme", "paid_on"], name="disbursement_scheme_paid"),
            # The coordination board: an area's payments of a period, read from the index
            # alone (the child, kind and scheme the double-aid rule groups by, and the
            # household it looks up, are in it).
            models.Index(
                fields=["residence", "paid_on", "child", "kind", "scheme", "household"],
                name="disbursement_area_paid",
            ),
            models.Index(
                fields=["residence", "paid_on", "child", "kind", "scheme", "household"],
                condition=models.Q(double=True),
                name="disbursement_double_area",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.paid_on} {self.amount or self.items}"


class FollowUp(models.Model):
    """What came of the aid (school results, say). `note` is for the workers; `story` is an
    anonymised account a sponsor may read once a scheme manager other than its writer
    approved it."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="followups")
    on = models.DateField(_("date"))
    note = models.TextField(_("note"))
    story = models.TextField(_("story for sponsors (anonymised)"), blank=True)
    story_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("story approved by"),
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )

    class Meta:
        ordering = ["application", "on", "id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")

    def __str__(self) -> str:
        return f"{self.application_id} {self.on}"
