"""Rules of a dwelling's allocation round (DwellingOffer): candidates, ranks, who holds the dwelling,
reply deadlines. Pure reads and checks; the writes are the workflow services (workflows/services.py).
"""

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from . import choices
from .models import DwellingOffer, Proposal

# At least three candidates per dwelling before the CALEOL (R441-3 CCH).
MIN_CANDIDATES = 3
# At least 10 days to answer an offer (R441-10 CCH; CE 436148): a territory may set more, never less.
LEGAL_MIN_REPLY_DAYS = 10


def reply_days() -> int:
    return max(LEGAL_MIN_REPLY_DAYS, int(getattr(settings, "PPGDID_OFFER_REPLY_DAYS", LEGAL_MIN_REPLY_DAYS)))


def lock_offer(offer_id: int) -> DwellingOffer:
    qs = DwellingOffer.objects.select_related("dwelling")
    qs = qs.select_for_update(of=("self",)) if connection.vendor == "postgresql" else qs.select_for_update()
    return qs.get(pk=offer_id)


def open_offer(dwelling, actor) -> DwellingOffer:
    """The dwelling's open allocation round, opened now if there is none (locked)."""
    offer = DwellingOffer.objects.filter(dwelling=dwelling, status=choices.OfferStatus.OPEN).first()
    if offer is None:
        offer = DwellingOffer.objects.create(dwelling=dwelling, created_by=actor)
    return lock_offer(offer.pk)


def reply_start(proposal: Proposal) -> date | None:
    """The day the reply period starts: delivery (or first attempt) for a registered letter."""
    if proposal.registered_letter:
        return proposal.delivered_on
    return proposal.notified_on


def apply_reply_deadline(proposal: Proposal) -> None:
    """Fill in or check the reply deadline. Raises ValidationError (field-keyed, French)."""
    if proposal.registered_letter and proposal.delivered_on and proposal.notified_on:
        if proposal.delivered_on < proposal.notified_on:
            raise ValidationError({"delivered_on": _("La lettre ne peut pas avoir été remise avant d'être envoyée.")})
    if proposal.delivered_on and not proposal.registered_letter:
        raise ValidationError({"delivered_on": _("Une date de remise ne concerne qu'une lettre recommandée.")})
    start = reply_start(proposal)
    if start is None:
        # Registered letter not yet delivered: the period has not started.
        if proposal.reply_deadline and not proposal.notified_on:
            raise ValidationError({"notified_on": _("Indiquez d'abord la date de notification de l'offre.")})
        if proposal.registered_letter:
            proposal.reply_deadline = None
        return
    minimum = start + timedelta(days=reply_days())
    if proposal.reply_deadline is None:
        proposal.reply_deadline = minimum
    elif proposal.reply_deadline < minimum:
        raise ValidationError(
            {
                "reply_deadline": _(
                    "Le délai de réponse doit être d'au moins %(days)s jours après la %(start)s (au plus tôt le "
                    "%(date)s)."
                )
                % {
                    "days": reply_days(),
                    "start": _("remise de la lettre recommandée") if proposal.registered_letter else _("notification"),
                    "date": minimum.strftime("%d/%m/%Y"),
                }
            }
        )


def check_candidate_count(offer: DwellingOffer) -> None:
    """The CALEOL examines at least three candidates, unless the exception is recorded with its reason."""
    count = offer.proposals.count()
    if count >= MIN_CANDIDATES:
        return
    reason = offer.fewer_candidates_reason
    if not reason:
        raise ValidationError(
            {
                "fewer_candidates_reason": _(
                    "La CALEOL doit examiner au moins trois candidats pour ce logement (%(count)s à ce jour). "
                    "Proposez-le à d'autres ménages, ou indiquez pourquoi il y en a moins : ménage DALO désigné "
                    "par le préfet, ou candidats en nombre insuffisant."
                )
                % {"count": count}
            }
        )
    if reason == choices.FewerCandidatesReason.DALO_PREFET and not offer.proposals.filter(case__is_dalo=True).exists():
        raise ValidationError(
            {"fewer_candidates_reason": _("Aucun candidat de ce logement n'est un ménage reconnu DALO.")}
        )


def decided(proposal: Proposal):
    return getattr(proposal, "caleol_decision", None)


def replied(proposal: Proposal):
    return getattr(proposal, "reply", None)


def ranking(offer: DwellingOffer) -> list[Proposal]:
    """The candidates allocated by the CALEOL, best rank first."""
    rows = offer.proposals.select_related("case", "caleol_decision", "reply").all()
    allocated = [p for p in rows if decided(p) and p.caleol_decision.is_allocation]
    return sorted(allocated, key=lambda p: (p.caleol_decision.effective_rank, p.pk))


def holder(offer: DwellingOffer) -> Proposal | None:
    """The candidate the dwelling is offered to now: the best-ranked allocated candidate still in the
    running. The dwelling passes down the ranking when a better-ranked household refuses, lets the
    deadline pass, sees its conditional allocation lapse or leaves the priority track.

    None while the CALEOL has not decided on every candidate, or when nobody is left.
    """
    if offer.status != choices.OfferStatus.OPEN and offer.status != choices.OfferStatus.LET:
        return None
    candidates = list(offer.proposals.select_related("caleol_decision"))
    if any(decided(p) is None for p in candidates):
        return None
    for proposal in ranking(offer):
        if in_the_running(proposal):
            return proposal
    return None


def in_the_running(proposal: Proposal) -> bool:
    reply = replied(proposal)
    return proposal.case.is_open and (reply is None or reply.answer == choices.ReplyAnswer.ACCEPTED)


def check_rank_free(proposal: Proposal, decision) -> None:
    """Two candidates still in the running for the same dwelling cannot share a rank (a later CALEOL
    session may rank new candidates once the earlier ones have refused)."""
    if not decision.is_allocation or proposal.offer_id is None:
        return
    rank = decision.effective_rank
    for other in ranking(proposal.offer):
        if other.pk != proposal.pk and in_the_running(other) and other.caleol_decision.effective_rank == rank:
            raise ValidationError(
                {"rank": _("Le rang %(rank)s est déjà donné à un autre candidat pour ce logement.") % {"rank": rank}}
            )
