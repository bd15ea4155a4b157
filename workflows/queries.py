"""Read-side helpers for the step pages. The task lists themselves are in permissions.queues."""

from django.db.models import QuerySet
from viewflow.workflow.models import Task


def can_do(user, task: Task) -> bool:
    """May the user open and complete this step now (own it, or may take it)?"""
    if task.owner_id is not None:
        return task.flow_task.can_execute(user, task)
    return task.flow_task.can_assign(user, task)


def open_task(case, node_name: str | None = None) -> Task | None:
    from .services import active_task

    return active_task(case, node_name)


def done_steps(case) -> QuerySet:
    """Steps already finished or cancelled on the case, oldest first (the Task rows are the log)."""
    return (
        Task.objects.filter(process__caseprocess__case=case, flow_task_type="HUMAN", finished__isnull=False)
        .select_related("owner")
        .order_by("finished", "pk")
    )
