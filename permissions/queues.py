"""Task lists in one query each, filtered by the case policy.

viewflow's own queue loads every object-permission row of the user and checks them in Python (one
query per row); these replace it: the grant check is an EXISTS subquery on guardian's table and the
case scope is the policy's filter, so the cost does not grow with the number of grants.
"""

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import BigIntegerField, Exists, OuterRef, Q
from django.db.models.functions import Cast
from guardian.models import GroupObjectPermission, UserObjectPermission
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from .grants import STEP_PERMISSIONS
from .policy import Action, policy


def _case_content_type():
    from cases.models import Case

    return ContentType.objects.get_for_model(Case)  # cached by Django after the first call


def _scoped_tasks(user):
    """Human tasks on cases in the user's scope. The case is the task's permission object
    (every step of CaseFlow declares `.Permission(..., obj=case)`), so no join through the process."""
    from cases.models import Case

    q = policy.filter_q(user, Action.VIEW)
    if q is None:
        return Task.objects.none()
    case_pk = Cast(OuterRef("owner_permission_obj_pk"), BigIntegerField())
    in_scope = Exists(Case.objects.filter(q, pk=case_pk))
    return Task.objects.filter(flow_task_type="HUMAN", owner_permission_content_type=_case_content_type()).filter(
        in_scope
    )


def task_queue_for(user):
    """Open steps nobody has taken yet that the user may take (step grant + case in scope).

    One query: for each step permission, the ids of the cases the user's groups (or the user) hold
    it on, as a hashed semi-join; no concatenated strings, no per-row lookups.
    """
    if not user.is_authenticated:
        return Task.objects.none()
    content_type = _case_content_type()
    groups = get_user_model().groups.through.objects.filter(user_id=user.pk).values("group_id")
    held = Q()
    for codename in STEP_PERMISSIONS:
        by_group = GroupObjectPermission.objects.filter(
            group_id__in=groups, content_type=content_type, permission__codename=codename
        ).values("object_pk")
        by_user = UserObjectPermission.objects.filter(
            user_id=user.pk, content_type=content_type, permission__codename=codename
        ).values("object_pk")
        held |= Q(owner_permission=f"{content_type.app_label}.{codename}") & (
            Q(owner_permission_obj_pk__in=by_group) | Q(owner_permission_obj_pk__in=by_user)
        )
    return (
        _scoped_tasks(user)
        .filter(status=STATUS.NEW, owner__isnull=True)
        .filter(held)
        .select_related("process")
        .order_by("created")
    )


def task_inbox_for(user):
    """Steps the user has taken and not finished, on cases still in their scope."""
    if not user.is_authenticated:
        return Task.objects.none()
    return (
        _scoped_tasks(user)
        .filter(owner=user, status__in=(STATUS.ASSIGNED, STATUS.STARTED))
        .select_related("process")
        .order_by("created")
    )
