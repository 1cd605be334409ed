"""What record linkage keeps inside one deployment: the runs of the matching job, the pairs
it found (`Candidate`: a link once it is sure or confirmed, or a pair waiting for review),
the reviewers' decisions, the child's move as the link tells it, and the consented shares of
a child's file with the organisation of the other side.

Nothing here merges two children: a link joins two files kept by two jurisdictions, and each
side keeps its own record."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Run(models.Model):
    """One run of the matching job: nightly (no one asked) or asked for by a supervisor."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.RUNNING)
    error = models.TextField(blank=True)
    home_records = models.PositiveIntegerField(default=0)
    destination_records = models.PositiveIntegerField(default=0)
    linked = models.PositiveIntegerField(default=0)  # sure links made by this run
    to_review = models.PositiveIntegerField(default=0)  # new pairs in the review queue
    labels = models.PositiveIntegerField(default=0)  # confirmed pairs the model learned from

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"linkage run {self.pk}"


class Status(models.TextChoices):
    REVIEW = "review", _("Waiting for review")
    UNSURE = "unsure", _("Unsure: waiting for the other side")
    LINKED = "linked", _("Linked")
    REJECTED = "rejected", _("Not a match")


class How(models.TextChoices):
    SURE = "sure", _("Sure match")
    REVIEWED = "reviewed", _("Confirmed by a reviewer")


class Candidate(models.Model):
    """A home record and a destination record the model says may be the same child."""

    home = models.ForeignKey(
        "children.Child", on_delete=models.CASCADE, related_name="links_as_home"
    )
    destination = models.ForeignKey(
        "children.Child", on_delete=models.CASCADE, related_name="links_as_destination"
    )
    probability = models.FloatField()
    # The comparison levels that drove the score: {"name": 5, "id_number": -1, ...}
    # (-1 missing, 0 different, higher closer; `evidence.LEVELS` names them).
    evidence = models.JSONField(default=dict)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.REVIEW
    )
    how = models.CharField(_("linked by"), max_length=8, choices=How.choices, blank=True)
    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="candidates")
    created_at = models.DateTimeField()
    linked_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)  # a link undone by a reviewer
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-probability", "id"]
        verbose_name = _("record in another place")
        verbose_name_plural = _("records in other places")
        constraints = [
            models.UniqueConstraint(fields=["home", "destination"], name="candidate_pair"),
            models.CheckConstraint(
                condition=~Q(home=models.F("destination")), name="candidate_two_records"
            ),
            # A destination record links to at most one home record.
            models.UniqueConstraint(
                fields=["destination"],
                condition=Q(status="linked"),
                name="candidate_one_home_link",
            ),
        ]
        indexes = [models.Index(fields=["status", "-probability"], name="candidate_status")]

    def __str__(self) -> str:
        return f"candidate {self.pk}"


class Verdict(models.TextChoices):
    MATCH = "match", _("Same child")
    NON_MATCH = "non_match", _("Not the same child")
    UNSURE = "unsure", _("Unsure")


class Side(models.TextChoices):
    HOME = "home", _("Home county")
    DESTINATION = "destination", _("Destination")


class Decision(models.Model):
    """A reviewer's decision on a candidate, with the reason: every one is kept."""

    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="decisions")
    verdict = models.CharField(_("decision"), max_length=10, choices=Verdict.choices)
    reason = models.TextField(_("reason"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    side = models.CharField(
        _("side"), max_length=12, choices=Side.choices
    )  # whose reviewer decided
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["decided_at", "id"]
        verbose_name = _("linkage decision")
        verbose_name_plural = _("linkage decisions")

    def __str__(self) -> str:
        return f"{self.candidate_id} {self.verdict}"


class Move(models.Model):
    """Where the child lives now, as a confirmed link tells the home county."""

    child = models.ForeignKey("children.Child", on_delete=models.CASCADE, related_name="moves")
    to_place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    since = models.DateField(null=True, blank=True)
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="moves")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.child_id} → {self.to_place_id}"


class Basis(models.TextChoices):
    CONSENT = "consent", _("The guardian's consent")
    CHILD = "child", _("The child's own request")
    LEGAL = "legal", _("A legal basis on record")


class Fields(models.TextChoices):
    BASIC = "basic", _("Basic fields")
    FULL = "full", _("The whole file, as each reader's role allows")


class Share(models.Model):
    """A child's file opened to the organisation of the other side of a link."""

    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="shares")
    child = models.ForeignKey("children.Child", on_delete=models.CASCADE, related_name="shares")
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="shared_children",
        verbose_name=_("shared with"),
    )
    fields = models.CharField(
        _("what is shared"), max_length=8, choices=Fields.choices, default=Fields.BASIC
    )
    basis = models.CharField(_("basis"), max_length=8, choices=Basis.choices)
    # The consent, the child's words, the law.
    basis_note = models.TextField(_("note on the basis"), blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField()
    active = models.BooleanField(_("active"), default=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(_("why it ended"), blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("shared file")
        verbose_name_plural = _("shared files")
        constraints = [
            models.UniqueConstraint(
                fields=["child", "organisation"],
                condition=Q(active=True),
                name="share_one_active",
            )
        ]
        indexes = [
            models.Index(
                fields=["organisation", "fields", "child"],
                condition=Q(active=True),
                name="share_active_org",
            )
        ]

    def __str__(self) -> str:
        return f"{self.child_id} → {self.organisation_id}"
