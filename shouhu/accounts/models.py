"""Users, organisations and memberships (organisation + role)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CHILD_DIRECTOR = "child_director", _("Child director")
    SUPERVISOR = "supervisor", _("Child supervisor")
    OFFICIAL = "official", _("Official")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    COUNSELOR = "counselor", _("Counsellor")
    TEACHER = "teacher", _("Teacher")
    VOLUNTEER = "volunteer", _("Volunteer")
    TECH_ENVOY = "tech_envoy", _("Technology envoy")
    ADMIN = "admin", _("Administrator")


class OrgKind(models.TextChoices):
    CIVIL_AFFAIRS = "civil_affairs", _("Civil affairs bureau")
    TOWNSHIP_GOVERNMENT = "township_government", _("Township government")
    VILLAGE_COMMITTEE = "village_committee", _("Village committee")
    SCHOOL = "school", _("School")
    SOCIAL_WORK = "social_work", _("Social-work organisation")
    WOMENS_FEDERATION = "womens_federation", _("Women's federation")
    HOSPITAL = "hospital", _("Hospital")
    POLICE = "police", _("Police")
    NGO = "ngo", _("NGO")
    COMPANY = "company", _("Company")


class User(AbstractUser):
    """A person who logs in. What they may see comes from their memberships."""

    display_name = models.CharField(_("display name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=OrgKind.choices)
    jurisdiction = models.ForeignKey(
        "places.Place",
        on_delete=models.PROTECT,
        related_name="organisations",
        verbose_name=_("jurisdiction"),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.UniqueConstraint(fields=["name", "jurisdiction"], name="org_name_place_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="membership_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation} · {self.role}"


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored.

    `password_stamp` is the user's session hash when the token was issued (Django's
    `get_session_auth_hash`, an HMAC of the password hash): a token stops working as soon as
    the password changes, however it was changed, as a session does."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    password_stamp = models.CharField(max_length=128, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"token {self.pk} of {self.user_id}"
