"""The in-app inbox: every notification is kept here, whatever other channels carry it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    category = models.CharField(_("category"), max_length=32)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    # The same message in English, for those who read the site in English (the fields above
    # are in Chinese); empty for messages written before both were kept.
    subject_en = models.CharField(_("subject (English)"), max_length=200, blank=True)
    body_en = models.TextField(_("message (English)"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("sent"), db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    channels = models.JSONField(_("channels"), default=list)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.subject

    def in_language(self, language: str) -> tuple[str, str]:
        """(subject, body) in the reader's language, where it was kept."""
        if language.startswith("en") and self.subject_en:
            return self.subject_en, self.body_en
        return self.subject, self.body


class ParentMessage(models.Model):
    """A message to a parent or guardian (who is not a user): SMS or WeChat through the
    configured parent backends (console by default). The phone number is read from the
    family member's encrypted field at sending time, never copied here."""

    member = models.ForeignKey(
        "children.FamilyMember", on_delete=models.CASCADE, related_name="messages"
    )
    channel = models.CharField(_("channel"), max_length=8)
    category = models.CharField(_("category"), max_length=32)
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    backends = models.JSONField(_("channels"), default=list)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("message to a parent")
        verbose_name_plural = _("messages to parents")

    def __str__(self) -> str:
        return f"{self.category} to {self.member_id}"
