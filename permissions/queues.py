"""Task lists, one page at a time, filtered by the case policy.

viewflow's own queue loads every object-permission row of the user and checks them in Python (one
query per row). Ours walks the user's step grants in the order they were given (a step grant is
given when the step opens, see permissions.grants) and probes, per grant, the open task it unlocks:
the cost is that of one page, whatever the number of grants or of open tasks (see the indexes of
permissions/migrations/0004_task_list_indexes.py). The case scope of the policy is applied on top.
"""

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import BigIntegerField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from guardian.models import GroupObjectPermission
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases.models import Case

from .grants import STEP_PERMISSIONS, role_group_names
from .policy import Action, delegators_of, policy

PAGE_SIZE = 50
# What a task list row shows (case reference, due date by the household's commune).
TASK_RELATED = ("process__caseprocess__case__household__commune", "owner")


def _case_content_type():

    return ContentType.objects.get_for_model(Case)  # cached by Django after the first call


def _in_scope(user, tasks):
    """Keep the human tasks whose case the user may see. The case is the task's permission object
    (every step of CaseFlow declares `.Permission(..., obj=case)`), so no join through the process."""

    q = policy.filter_q(user, Action.VIEW)
    if q is None:
        return tasks.none()
    case_pk = Cast(OuterRef("owner_permission_obj_pk"), BigIntegerField())
    return tasks.filter(flow_task_type="HUMAN", owner_permission_content_type=_case_content_type()).filter(
        Exists(Case.objects.filter(q, pk=case_pk))
    )


def _queue_sql(n_groups: int) -> str:
    """Per group: its step grants in id order, each with the open unclaimed task it unlocks (if any),
    cut at the page's end; then the groups' pages merged in grant order. The groups are named, not
    numbered: their names come from the memberships the request has already read (a user is in a role
    group exactly while the membership is active, permissions.models.Membership._sync_group), so the
    page asks no query for the user's group ids."""
    codes = ", ".join(["%s"] * len(STEP_PERMISSIONS))
    step_permissions = f"SELECT id FROM auth_permission WHERE content_type_id = %s AND codename IN ({codes})"
    if connection.vendor == "postgresql":
        # Joined to auth_permission, the grants of the step permissions are estimated at a handful
        # (6 codenames of some 360), so PostgreSQL sorts all of the group's grants instead of walking
        # its (group_id, id) index; against an array computed once it walks and stops at the page.
        # OFFSET 0 keeps it from pushing the "has a task" filter into the walk, which would probe
        # every grant of the group before sorting them. SQLite walks in order anyway.
        is_step, fence = f"g.permission_id = ANY(ARRAY({step_permissions}))", " OFFSET 0"
    else:
        is_step, fence = f"g.permission_id IN ({step_permissions})", ""
    branch = f"""
        SELECT * FROM (
            SELECT grant_id, task_id FROM (
                SELECT g.id AS grant_id, (
                    SELECT t.id FROM viewflow_task t
                    WHERE t.owner_permission_obj_pk = g.object_pk
                      AND t.owner_permission = (
                          SELECT %s || p.codename FROM auth_permission p WHERE p.id = g.permission_id
                      )
                      AND t.status = %s AND t.owner_id IS NULL AND t.flow_task_type = 'HUMAN'
                    LIMIT 1
                ) AS task_id
                FROM guardian_groupobjectpermission g
                WHERE g.group_id = (SELECT id FROM auth_group WHERE name = %s) AND g.content_type_id = %s AND {is_step}
                ORDER BY g.id{fence}
            ) AS walk
            WHERE task_id IS NOT NULL
            LIMIT %s
        ) AS page"""
    return " UNION ALL ".join([branch] * n_groups) + " ORDER BY grant_id LIMIT %s OFFSET %s"


def task_queue_for(user, page: int = 1, *, prepare=None) -> list[Task]:
    """Open steps nobody has taken yet that the user may take (step grant + case in scope).

    One page (PAGE_SIZE rows, plus one to tell whether a next page exists), oldest grant first.
    `prepare`: applied to the rows' queryset (the worklists add their columns in the same query).
    """
    if not user.is_authenticated:
        return []
    group_names = sorted(set(role_group_names(user)))
    if not group_names:
        return []
    content_type = _case_content_type()
    offset = (page - 1) * PAGE_SIZE
    limit = PAGE_SIZE + 1
    params = []
    for group_name in group_names:
        params += [f"{content_type.app_label}.", STATUS.NEW, group_name, content_type.pk, content_type.pk]
        params += STEP_PERMISSIONS
        params.append(offset + limit)
    params += [limit, offset]
    with connection.cursor() as cursor:
        cursor.execute(_queue_sql(len(group_names)), params)
        ordered_ids = [task_id for _grant_id, task_id in cursor.fetchall()]
    tasks = _in_scope(user, Task.objects.filter(pk__in=ordered_ids, status=STATUS.NEW, owner__isnull=True))
    tasks = tasks.select_related(*TASK_RELATED)
    by_id = {task.pk: task for task in (prepare(tasks) if prepare else tasks)}
    queue = [by_id[pk] for pk in dict.fromkeys(ordered_ids) if pk in by_id]
    return delegated_tasks_for(user, prepare=prepare) + queue if page == 1 else queue


def delegated_tasks_for(user, *, prepare=None) -> list[Task]:
    """The steps taken by the colleagues `user` stands in for today (permissions.models.Delegation),
    which the delegate may take (workflows.services.task_claim): first on the queue's first page.
    No query for a user who stands in for nobody."""
    delegators = delegators_of(user)
    if not delegators:
        return []
    mine = Task.objects.filter(owner_id__in=sorted(delegators), status__in=(STATUS.ASSIGNED, STATUS.STARTED))
    tasks = _in_scope(user, mine).select_related(*TASK_RELATED).order_by("created", "pk")
    return list((prepare(tasks) if prepare else tasks)[:PAGE_SIZE])


def task_inbox_for(user, page: int = 1, *, prepare=None):
    """Steps the user has taken and not finished, on cases still in their scope (one page, plus one)."""
    if not user.is_authenticated:
        return Task.objects.none()
    offset = (page - 1) * PAGE_SIZE
    mine = Task.objects.filter(owner=user, status__in=(STATUS.ASSIGNED, STATUS.STARTED))
    tasks = _in_scope(user, mine).select_related(*TASK_RELATED).order_by("created", "pk")
    return (prepare(tasks) if prepare else tasks)[offset : offset + PAGE_SIZE + 1]


def _may_take(user):
    """The task's step grant is held by one of the user's groups (the rule the queue walk follows)."""
    content_type = _case_content_type()
    return Exists(
        GroupObjectPermission.objects.filter(
            group__user=user,
            content_type=content_type,
            object_pk=OuterRef("owner_permission_obj_pk"),
            permission__codename__in=STEP_PERMISSIONS,
        )
        .annotate(full=Concat(Value(f"{content_type.app_label}."), "permission__codename"))
        .filter(full=OuterRef("owner_permission"))
    )


def filtered_tasks(user, cases, *, mine: bool):
    """The inbox (`mine`) or the queue (with the steps of the colleagues `user` stands in for),
    restricted to the tasks of `cases` (a filtered case queryset), oldest first, as a queryset the
    caller cuts into pages (web/worklists.py). The filters narrow the rows, so a plain query with the
    same rules (step grant of a group, case in scope) replaces the grant walk."""
    if not user.is_authenticated:
        return Task.objects.none()
    if mine:
        tasks = Task.objects.filter(owner=user, status__in=(STATUS.ASSIGNED, STATUS.STARTED))
    else:
        free = Q(status=STATUS.NEW, owner__isnull=True) & Q(_may_take(user))
        delegators = delegators_of(user)
        if delegators:
            free |= Q(owner_id__in=sorted(delegators), status__in=(STATUS.ASSIGNED, STATUS.STARTED))
        tasks = Task.objects.filter(free)
    tasks = tasks.filter(process__caseprocess__case__in=cases.order_by().values("pk"))
    return _in_scope(user, tasks).select_related(*TASK_RELATED).order_by("created", "pk")
