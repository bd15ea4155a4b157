"""Receivers: every history row and every read joins its case's chain; Celery tasks act as the system."""

from contextlib import ExitStack

from celery import signals as celery_signals
from django.db.models.signals import post_save
from django.dispatch import receiver
from simple_history.signals import post_create_historical_m2m_records, post_create_historical_record

from cases.audit import acting_as, system_actor

from .chain import chain_or_collect
from .models import AccessLog


@receiver(post_create_historical_record)
def _chain_history_row(sender, history_instance, instance=None, **kwargs):
    history_instance._audit_source = instance  # its loaded relations tell the case without a query (case_id_of)
    chain_or_collect(history_instance)


@receiver(post_create_historical_m2m_records)
def _keep_m2m_rows(sender, created_rows, history_instance, field, **kwargs):
    # The m2m history rows just written with their row (sent before post_create_historical_record): the
    # chain's digest is computed from them in memory, not read back (audit.chain.memory_digest).
    history_instance.__dict__.setdefault("_m2m_written", {})[field.name] = list(created_rows)


@receiver(post_save, sender=AccessLog)
def _chain_read(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        chain_or_collect(instance)


# Celery: no person acts in a task unless the task says so (a service called with actor= inside
# it sets its own actor), so every task runs as the system actor with the task name as reason.
_task_contexts: dict[str, ExitStack] = {}


@celery_signals.task_prerun.connect
def _task_acts_as_system(task_id=None, task=None, **kwargs):
    stack = ExitStack()
    stack.enter_context(acting_as(system_actor(), f"Tâche automatique {task.name}"))
    _task_contexts[task_id] = stack


@celery_signals.task_postrun.connect
def _task_done(task_id=None, **kwargs):
    stack = _task_contexts.pop(task_id, None)
    if stack is not None:
        stack.close()
