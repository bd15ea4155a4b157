"""Due dates and overdue badges for task lists and case pages.

{% load deadlines %}
{% due_badge task %}            a task of the case flow (viewflow Task)
{% case_due_badge case %}       the case's open step
{% due_info task as info %}     {{ info.due_date }}, {{ info.overdue }}, {{ info.paused }}, {{ info.label }}
"""

from django import template

from ..deadlines import DueInfo, case_due_info
from ..deadlines import due_info as compute_due_info

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
