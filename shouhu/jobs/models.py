"""The jobs' schedule, kept in the database: when each job last ran, so that a restarted
worker (or cron with `--once`) runs only what is due, and two workers never run one job at
the same time."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobRun(models.Model):
    name = models.CharField(_("job"), max_length=64, unique=True)
    started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    succeeded_at = models.DateTimeField(_("last succeeded"), null=True, blank=True)
    outcome = models.CharField(_("last outcome"), max_length=200, blank=True)
    error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")

    def __str__(self) -> str:
        return self.name
