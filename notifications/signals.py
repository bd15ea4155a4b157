"""Domain records whose creation notifies. Receivers run inside the service's transaction, so the
outbox rows commit (or roll back) with the record."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from cases.models import CommitteeReview, HouseholdReply, Proposal

from . import events


@receiver(post_save, sender=CommitteeReview, dispatch_uid="notifications.committee_outcome")
def _committee_outcome(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        events.committee_outcome(instance)


@receiver(post_save, sender=Proposal, dispatch_uid="notifications.proposal_made")
def _proposal_made(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        events.proposal_made(instance)


@receiver(post_save, sender=HouseholdReply, dispatch_uid="notifications.offer_passed_down")
def _offer_passed_down(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        events.offer_passed_down(instance)
