"""Receivers: a case anonymised by the retention rules loses its stored files (cases/events.py)."""

from django.dispatch import receiver

from cases.events import case_anonymised

from .services import documents_forget


@receiver(case_anonymised, dispatch_uid="documents_forget")
def _forget_files(sender, case, rule, **kwargs):
    documents_forget(case, rule)
