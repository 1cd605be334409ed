from typing import Any

from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "shouhu.tasks"
    verbose_name = "Follow-ups"

    def ready(self) -> None:
        from shouhu.children import signals

        signals.facts_changed.connect(_child_moved, dispatch_uid="tasks-child-moved")


def _child_moved(sender: Any, children: Any, **kwargs: Any) -> None:
    from shouhu.tasks.services import child_moved

    for child in children:
        child_moved(child)
