"""Demo helper: make a few open steps overdue so the demo shows reminders, escalations and badges.

Only for demo data (the command refuses outside DEBUG): it moves a task's creation date back, which
a real case never does.
"""

from datetime import timedelta

from django.db import transaction
from viewflow.workflow.models import Task

from workflows.models import ACTIVE
from workflows.scan import fire_timers, scan_deadlines


def age_open_steps(cases, days: int) -> int:
    """Move the open human step of each case `days` days into the past. Returns steps moved."""
    moved = 0
    with transaction.atomic():
        for case in cases:
            for task in Task.objects.filter(
                process__caseprocess__case=case, flow_task_type="HUMAN", status__in=ACTIVE
            ).exclude(flow_task__endswith=".reply"):
                task.created -= timedelta(days=days)
                task.save(update_fields=["created"])
                moved += 1
    return moved


def make_demo_overdue(cases, days: int = 45) -> dict:
    """Age the steps, then run what beat runs: the scan pulls their deadline timers forward (their
    due date moved back), and the timers fire the reminders and escalations."""
    aged = age_open_steps(cases, days)
    return {"steps_aged": aged, "scan": scan_deadlines(), "timers_fired": fire_timers()[0]}
