"""Task lists in one query each, filtered by the case policy.

viewflow's own queue loads every object-permission row of the user and checks them in Python (one
query per row); these replace it: the grant check is an EXISTS subquery on guardian's table and the
case scope is the policy's filter, so the cost does not grow with the number of grants.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Concat
from guardian.models import GroupObjectPermission, UserObjectPermission
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from .policy import Action, policy


def _scoped_tasks(user):
    from cases.models import Case

    q = policy.filter_q(user, Action.VIEW)
    if q is None:
        return Task.objects.none()
    in_scope = Exists(Case.objects.filter(q, pk=OuterRef("process__caseprocess__case_id")))
    return Task.objects.filter(flow_task_type="HUMAN").filter(in_scope)


def task_queue_for(user):
    """Open steps nobody has taken yet that the user may take (step grant + case in scope)."""
    from cases.models import Case

    if not user.is_authenticated:
        return Task.objects.none()
    content_type = ContentType.objects.get_for_model(Case)
    full_name = Concat(Value(f"{content_type.app_label}."), F("permission__codename"))
    group_grant = (
        GroupObjectPermission.objects.filter(
            group__user=user, content_type=content_type, object_pk=OuterRef("owner_permission_obj_pk")
        )
        .annotate(full_name=full_name)
        .filter(full_name=OuterRef("owner_permission"))
    )
    user_grant = (
        UserObjectPermission.objects.filter(
            user=user, content_type=content_type, object_pk=OuterRef("owner_permission_obj_pk")
        )
        .annotate(full_name=full_name)
        .filter(full_name=OuterRef("owner_permission"))
    )
    return (
        _scoped_tasks(user)
        .filter(status=STATUS.NEW, owner__isnull=True)
        .filter(Q(owner_permission__isnull=True) | Exists(group_grant) | Exists(user_grant))
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
