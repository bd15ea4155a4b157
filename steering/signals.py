"""Receivers: a signed lease writes its allocation record; any write on a case's records marks its
aggregates dirty; a lease or a closing refreshes them as soon as the transaction commits; an anonymised
case (privacy retention) has the income of its allocation records scrubbed in the same transaction."""

import logging

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from cases.events import case_anonymised
from cases.models import CaleolDecision, Case, CaseCriterion, CommitteeReview, Diagnostic, HouseholdReply, Proposal

from . import aggregates
from .allocations import record_allocation, scrub_allocations

log = logging.getLogger("ppgdid.steering")


def _refresh_at_commit(case_id):
    def run():
        try:
            aggregates.refresh_cases([case_id])
        except Exception:  # the case stays dirty: the beat task refreshes it
            log.exception("steering refresh failed case_id=%s", case_id)

    transaction.on_commit(run)


@receiver(post_save, sender=Case, dispatch_uid="steering.case_saved")
def _case_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    if raw:
        return
    aggregates.mark_dirty(instance.pk)
    if instance.closed_at is not None:
        _refresh_at_commit(instance.pk)


@receiver(post_save, sender=Proposal, dispatch_uid="steering.proposal_saved")
def _proposal_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    aggregates.mark_dirty(instance.case_id)
    if instance.lease_signed_on:
        record_allocation(instance)
        _refresh_at_commit(instance.case_id)


def _mark_by(path):
    def handler(sender, instance, raw=False, **kwargs):
        if not raw:
            aggregates.mark_dirty(path(instance))

    return handler


for model, path in (
    (CaseCriterion, lambda i: i.case_id),
    (Diagnostic, lambda i: i.case_id),
    (CommitteeReview, lambda i: i.case_id),
    (CaleolDecision, lambda i: i.proposal.case_id),
    (HouseholdReply, lambda i: i.proposal.case_id),
):
    post_save.connect(_mark_by(path), sender=model, weak=False, dispatch_uid=f"steering.dirty.{model.__name__}")


@receiver(case_anonymised, dispatch_uid="steering.case_anonymised")
def _case_anonymised(sender, case, rule, **kwargs):
    scrub_allocations(case.pk, rule)
