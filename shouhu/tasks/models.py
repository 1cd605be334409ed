"""Follow-ups: one task model for everything owed to a child by a person.

The home visit that a child's risk level sets (owed by the village's child director), a
case's visits, calls and one-off tasks, and the tasks the apps to come will raise (three
absences from a programme, a surrogate parent's missed contact) are rows of one table and
one worklist. A task always names the child; it may also name the case it belongs to and
the assessment that closed it (the two references to higher apps are by name only: this
app's code never imports them).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shouhu.children.models import RiskColour


class TaskKind(models.TextChoices):
    HOME_VISIT = "home_visit", _("Home visit (risk level)")
    VISIT = "visit", _("Visit")
    CALL = "call", _("Phone call")
    TASK = "task", _("Task")
    SURROGATE_CONTACT = "surrogate_contact", _("Surrogate parent's contact")


# What a worker adds to a case by hand (the home visit of the risk level is the engine's).
CASE_KINDS = (TaskKind.VISIT, TaskKind.CALL, TaskKind.TASK)


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Task(models.Model):
    """A follow-up owed to a child. Recurring visits and calls of a case schedule the next
    when one is done, on the interval the child's risk level sets; the risk-level home visit
    is kept by the risk engine (one open per child)."""

    child = models.ForeignKey("children.Child", on_delete=models.CASCADE, related_name="tasks")
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=TaskKind.choices)
    title = models.CharField(_("task"), max_length=200)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    level = models.CharField(_("risk level"), max_length=8, choices=RiskColour.choices, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
    )
    due_on = models.DateField(_("due"))
    recurring = models.BooleanField(_("recurring"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    created_at = models.DateTimeField(_("created"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    done_note = models.TextField(_("what was done"), blank=True)
    administration = models.ForeignKey(
        "screening.Administration",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # The child's village (kept in step when the child moves): area worklists and overdue
    # counts read the task's own column, without joining the registry.
    residence = models.CharField(max_length=12, editable=False)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [
            models.Index(fields=["assignee", "status", "due_on"], name="tasks_assignee_due"),
            models.Index(fields=["child", "status"], name="tasks_child_status"),
            # Open follow-ups in due order (worklists read the first hundred or two).
            models.Index(
                fields=["due_on", "id"],
                name="task_open_due",
                condition=models.Q(status="open"),
            ),
            # Open follow-ups of an area in due order, and overdue counts per worker.
            models.Index(
                fields=["residence", "due_on", "assignee"],
                name="task_open_area",
                condition=models.Q(status="open"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["child"],
                condition=models.Q(status="open", kind="home_visit"),
                name="task_one_open_home_visit",
            ),
            # A surrogate parent's missed contact is owed once at a time (`surrogates.missed`).
            models.UniqueConstraint(
                fields=["child"],
                condition=models.Q(status="open", kind="surrogate_contact"),
                name="task_one_open_surrogate_contact",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN
