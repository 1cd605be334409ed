"""Hand-off packages between deployments: this deployment's key to receive (X25519), each
organisation's key to sign (Ed25519), the peers trusted to send, and the packages sent and
received.

Private keys are stored sealed with the field key (`lib.protect`, as ID numbers are); public
keys as base64 of their 32 raw bytes, with a fingerprint (`keys.fingerprint`) that people
compare over the telephone before trusting a peer.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DeploymentKey(models.Model):
    """This deployment's X25519 key pair: packages are encrypted to its public half. A
    rotated key is no longer current but still opens the packages sent to it; a revoked key
    opens nothing."""

    deployment = models.CharField(_("deployment"), max_length=64)
    public_key = models.CharField(_("public key"), max_length=64)
    private_key_enc = models.TextField(_("private key (encrypted)"))
    fingerprint = models.CharField(_("fingerprint"), max_length=32, unique=True)
    current = models.BooleanField(_("current"), default=True)
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("deployment key")
        verbose_name_plural = _("deployment keys")
        constraints = [
            models.UniqueConstraint(
                fields=["current"],
                condition=models.Q(current=True),
                name="handoff_one_current_deployment_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.deployment} {self.fingerprint}"


class SigningKey(models.Model):
    """An organisation's Ed25519 key pair: the packages it sends are signed with it."""

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organisation"),
    )
    public_key = models.CharField(_("public key"), max_length=64)
    private_key_enc = models.TextField(_("private key (encrypted)"))
    fingerprint = models.CharField(_("fingerprint"), max_length=32, unique=True)
    current = models.BooleanField(_("current"), default=True)
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["organisation", "-created_at", "-id"]
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=models.Q(current=True),
                name="handoff_one_current_signing_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.fingerprint}"


class Peer(models.Model):
    """Another deployment trusted to send and receive hand-offs: its X25519 public key."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    deployment = models.CharField(_("deployment"), max_length=64)
    public_key = models.CharField(_("public key"), max_length=64)
    fingerprint = models.CharField(_("fingerprint"), max_length=32)
    added_at = models.DateTimeField(_("added"))
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    added_by_name = models.CharField(_("added by"), max_length=150)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by_name = models.CharField(_("revoked by"), max_length=150, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("trusted deployment")
        verbose_name_plural = _("trusted deployments")

    def __str__(self) -> str:
        return self.name


class PeerKey(models.Model):
    """An organisation of a peer deployment: its Ed25519 key verifies the packages it signs
    (a key is trusted for one peer only, and a revoked key is never trusted again)."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="keys")
    organisation = models.CharField(_("organisation"), max_length=200)
    organisation_ref = models.CharField(_("organisation number"), max_length=32, blank=True)
    public_key = models.CharField(_("public key"), max_length=64)
    fingerprint = models.CharField(_("fingerprint"), max_length=32)
    added_at = models.DateTimeField(_("added"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["peer", "organisation", "id"]
        verbose_name = _("trusted signing key")
        verbose_name_plural = _("trusted signing keys")
        constraints = [
            # A verify key names one peer: the signer of a package is never ambiguous.
            models.UniqueConstraint(
                fields=["fingerprint"], name="handoff_peer_key_fingerprint_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation} {self.fingerprint}"


class Outgoing(models.Model):
    """A package sent: which child, to which peer, signed by which organisation."""

    package_id = models.CharField(_("package"), max_length=36, unique=True)
    child = models.ForeignKey(
        "children.Child", on_delete=models.PROTECT, related_name="+", verbose_name=_("child")
    )
    peer = models.ForeignKey(
        Peer, on_delete=models.PROTECT, related_name="+", verbose_name=_("sent to")
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("signed by"),
    )
    signer_fingerprint = models.CharField(_("signing key"), max_length=32)
    created_at = models.DateTimeField(_("exported"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("exported by"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("package sent")
        verbose_name_plural = _("packages sent")
        indexes = [models.Index(fields=["organisation", "created_at"], name="handoff_out_org")]

    def __str__(self) -> str:
        return self.package_id


class IncomingStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    PENDING = "pending", _("Waiting for review")
    REGISTERED_AFTER_REVIEW = "registered_reviewed", _("Registered as a new child after review")
    ATTACHED = "attached", _("Attached to a registered child")


class Incoming(models.Model):
    """A package received. Its file is kept sealed, whatever became of it: a package that
    may be a child already registered waits here for a supervisor's review and overwrites
    nothing."""

    package_id = models.CharField(_("package"), max_length=36, unique=True)
    peer = models.ForeignKey(
        Peer, on_delete=models.PROTECT, related_name="+", verbose_name=_("sent from")
    )
    signer = models.ForeignKey(
        PeerKey, on_delete=models.PROTECT, related_name="+", verbose_name=_("signed by")
    )
    sender_organisation = models.CharField(_("sending organisation"), max_length=200)
    sent_at = models.DateTimeField(_("exported"))
    name = models.CharField(_("name"), max_length=100)
    birth_date = models.DateField(_("date of birth"))
    village = models.ForeignKey(
        "places.Place",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("destination village"),
    )
    payload_enc = models.TextField(_("file (encrypted)"))
    candidates = models.JSONField(_("possible duplicates"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=24, choices=IncomingStatus.choices)
    child = models.ForeignKey(
        "children.Child",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("child"),
    )
    imported_at = models.DateTimeField(_("imported"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("imported by"),
    )
    resolved_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )

    class Meta:
        ordering = ["-imported_at", "-id"]
        verbose_name = _("package received")
        verbose_name_plural = _("packages received")
        indexes = [models.Index(fields=["village", "status"], name="handoff_in_village")]

    def __str__(self) -> str:
        return self.package_id
