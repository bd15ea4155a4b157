"""Due dates and overdue badges for task lists and case pages.

{% load deadlines %}
{% due_badge task case %}              one task of the case flow (case optional)
{% case_due_badge case %}              the case's open step
{% with_due tasks as rows %}           task lists: sets `task.due` on each, in a fixed number of queries
{% include "notifications/due_badge.html" with info=task.due %}
"""

from django import template

from ..deadlines import DueInfo, due_infos
from ..deadlines import due_info as compute_due_info
from ..queries import case_due_info

register = template.Library()


@register.simple_tag
def due_info(task, case=None) -> DueInfo:
    return compute_due_info(task, case=case) if task is not None else DueInfo(None)


@register.inclusion_tag("notifications/due_badge.html")
def due_badge(task, case=None):
    return {"info": due_info(task, case)}


@register.inclusion_tag("notifications/due_badge.html")
def case_due_badge(case):
    return {"info": case_due_info(case)}


@register.simple_tag
def with_due(tasks):
    tasks = list(tasks)
    infos = due_infos(tasks)
    for task in tasks:
        task.due = infos[task.pk]
    return tasks
