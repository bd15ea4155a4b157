"""The floor: the cheapest transition stock viewflow makes on this machine and database.

A two-step flow on viewflow's own Process model, with no record written, no permission, no grant,
no history, no audit chain and no notification: what remains is viewflow itself (lock the process,
assign, start and finish the task, create the next one). Our transitions cannot be faster than
this; the benchmark prints it beside ours so the gap is ours and the rest is the stack's.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.flow.views import UpdateProcessView
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS


class FloorFlow(flow.Flow):
    """Plancher viewflow (banc d'essai)"""

    process_class = Process
    lock_impl = lock.select_for_update_lock  # as CaseFlow: concurrent workers must not race

    start = flow.StartHandle().Next(this.first)
    first = flow.View(UpdateProcessView.as_view(fields=[])).Next(this.second)
    second = flow.View(UpdateProcessView.as_view(fields=[])).Next(this.end)
    end = flow.End()


def prepare(n: int) -> list[int]:
    """Start `n` floor processes (not timed); the ids of their first steps."""
    with transaction.atomic():
        for _ in range(n):
            FloorFlow.start.run()
    return list(
        Task.objects.filter(flow_task=FloorFlow.first, status=STATUS.NEW)
        .order_by("-pk")
        .values_list("pk", flat=True)[:n]
    )


def complete(username: str, task_id: int) -> None:
    """What `workflows.services._complete_step` asks of viewflow, and nothing else."""
    user = get_user_model().objects.get(username=username)
    with transaction.atomic():
        task = Task.objects.get(pk=task_id)
        with task.activation() as activation:
            activation.assign(user)
            activation.start(None)
            activation.execute()


def clean() -> None:
    """Drop the floor processes (their tasks go with them): they are no one's cases."""
    Process.objects.filter(flow_class=FloorFlow).delete()
