"""Read-side selectors for the task pages: one query each, scoped by the case policy first.

viewflow's own `Task.objects.queue/user_queue` load every guardian row of the user and loop over
them in Python (one query per row, see shared/viewflow-notes.md); these use an `Exists()` subquery.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Concat
from guardian.models import GroupObjectPermission, UserObjectPermission
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from permissions.policy import policy


def _human_tasks(user) -> QuerySet:
    return (
        Task.objects.filter(
            flow_task_type="HUMAN",
            process__caseprocess__case__in=policy.queryset_for(user),
        )
        .select_related("process__caseprocess__case__household", "owner")
        .order_by("created", "pk")
    )


def _permission_matches(rows: QuerySet) -> QuerySet:
    """Guardian rows granting the task's `owner_permission` ("app.codename") on the task's object."""
    return rows.annotate(
        perm_name=Concat("content_type__app_label", Value("."), "permission__codename"),
    ).filter(
        perm_name=OuterRef("owner_permission"),
        object_pk=OuterRef("owner_permission_obj_pk"),
        content_type_id=OuterRef("owner_permission_content_type_id"),
    )


def inbox(user) -> QuerySet:
    """Steps the user has taken and not finished yet."""
    return _human_tasks(user).filter(owner=user, status__in=(STATUS.ASSIGNED, STATUS.STARTED))


def queue(user) -> QuerySet:
    """Steps nobody has taken that the user's groups (or the user) hold the grant for."""
    tasks = _human_tasks(user).filter(status=STATUS.NEW, owner__isnull=True)
    if user.is_superuser:
        return tasks
    granted = Exists(_permission_matches(GroupObjectPermission.objects.filter(group__user=user))) | Exists(
        _permission_matches(UserObjectPermission.objects.filter(user=user))
    )
    return tasks.filter(Q(owner_permission__isnull=False) & granted)


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
