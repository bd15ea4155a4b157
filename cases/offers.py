"""Rules of a dwelling's allocation round (DwellingOffer): candidates, ranks, who holds the dwelling,
reply deadlines. Pure reads and checks; the writes are the workflow services (workflows/services.py).
"""

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from . import choices, deadlines
from .models import DwellingOffer, Proposal

# At least three candidates per dwelling before the CALEOL (R441-3 CCH).
MIN_CANDIDATES = 3
# At least 10 days to answer an offer (R441-10 CCH): counted in cases/deadlines.py, the one place.
LEGAL_MIN_REPLY_DAYS = deadlines.LEGAL_MIN_REPLY_DAYS


def lock_offer(offer_id: int) -> DwellingOffer:
    qs = DwellingOffer.objects.select_related("dwelling")
    qs = qs.select_for_update(of=("self",)) if connection.vendor == "postgresql" else qs.select_for_update()
    return qs.get(pk=offer_id)


def open_offer(dwelling, actor, **fields) -> tuple[DwellingOffer, bool]:
    """(the dwelling's open allocation round, locked; whether it was opened now, with `fields`).

    A round opened now is this transaction's own row until commit (and the only open one of the
    dwelling: one_open_offer_per_dwelling): written once with its fields, not read again to lock it."""
    offer = DwellingOffer.objects.filter(dwelling=dwelling, status=choices.OfferStatus.OPEN).first()
    if offer is None:
        offer = DwellingOffer(dwelling=dwelling, created_by=actor, **fields)
        if fields:
            offer.full_clean(exclude=["dwelling", "created_by"])
        offer.save(force_insert=True)
        return offer, True
    return lock_offer(offer.pk), False


reply_start = deadlines.reply_start


def apply_reply_deadline(proposal: Proposal) -> None:
    """Fill in (or check the landlord's later) reply deadline, computed by cases/deadlines.py the way
    the law counts it. Raises ValidationError (field-keyed, French)."""
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
    departement = deadlines.offer_departement(proposal)
    minimum = deadlines.reply_deadline(start, departement)
    if proposal.reply_deadline is not None and proposal.reply_deadline < minimum:
        raise ValidationError(
            {
                "reply_deadline": _(
                    "Le délai de réponse doit être d'au moins %(days)s jours après la %(start)s (au plus tôt le "
                    "%(date)s, article R441-10 du CCH)."
                )
                % {
                    "days": deadlines.reply_days(departement),
                    "start": _("remise de la lettre recommandée") if proposal.registered_letter else _("notification"),
                    "date": minimum.strftime("%d/%m/%Y"),
                }
            }
        )
    proposal.reply_deadline = deadlines.reply_due(proposal, departement)


def dalo_informed_in_time(proposal: Proposal) -> bool:
    """The household was told that the offer is made under DALO, and what refusing it means, on or
    before the day the offer was notified: the condition for any loss of DALO benefit (CE 374241)."""
    given = proposal.dalo_notice_given_at
    return bool(given and proposal.notified_on and timezone.localdate(given) <= proposal.notified_on)


def check_dalo_notice(case, proposal: Proposal, *, field: str) -> None:
    """A DALO offer cannot go out before the household is informed (ValidationError on `field`)."""
    if not case.is_dalo:
        return
    if not proposal.dalo_notice_given_at:
        raise ValidationError(
            {
                "dalo_notice_given_at": _(
                    "Ménage DALO : indiquez quand il a été informé que l'offre est faite au titre du DALO "
                    "et des conséquences d'un refus. L'offre ne peut pas partir sans cette information."
                )
            }
        )
    if proposal.notified_on and not dalo_informed_in_time(proposal):
        raise ValidationError(
            {
                field: _(
                    "Ménage DALO : il a été informé des conséquences d'un refus le %(informed)s, après la "
                    "notification de l'offre (%(notified)s). L'offre ne peut être notifiée qu'une fois le ménage "
                    "informé : notifiez-la à une date égale ou postérieure."
                )
                % {
                    "informed": timezone.localdate(proposal.dalo_notice_given_at).strftime("%d/%m/%Y"),
                    "notified": proposal.notified_on.strftime("%d/%m/%Y"),
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


def _candidates(offer: DwellingOffer) -> list[Proposal]:
    return list(offer.proposals.select_related("case", "caleol_decision", "reply"))


def ranking(offer: DwellingOffer, rows: list[Proposal] | None = None) -> list[Proposal]:
    """The candidates allocated by the CALEOL, best rank first (`rows`: the offer's candidates, when
    the caller has read them already with _candidates)."""
    rows = _candidates(offer) if rows is None else rows
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
    candidates = _candidates(offer)  # one read for both questions
    if any(decided(p) is None for p in candidates):
        return None
    for proposal in ranking(offer, candidates):
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


def loss_review_facts(case) -> dict | None:
    """What the committee needs to rule on a loss of DALO benefit: the refused offer, when and how
    the household was informed, its motive, and the match alerts the landlord went past (the offer
    must have been adapted). Alert messages are the landlord-safe ones (cases/matching.py)."""
    if not case.dalo_loss_review_pending:
        return None
    proposal = (
        case.proposals.select_related("dwelling__commune", "reply")
        .filter(reply__isnull=False)
        .order_by("-created_at", "-pk")
        .first()
    )
    if proposal is None:
        return None
    reply = proposal.reply
    return {
        "dwelling": f"{proposal.dwelling.typology}, {proposal.dwelling.commune.name}",
        "notified_on": proposal.notified_on,
        "informed_on": timezone.localdate(proposal.dalo_notice_given_at) if proposal.dalo_notice_given_at else None,
        "answer": reply.get_answer_display(),
        "refusal_motive": reply.get_refusal_motive_display() if reply.refusal_motive else "",
        "weighed_by_committee": reply.refusal_motive in choices.REFUSAL_WEIGHED_BY_COMMITTEE,
        "comment": reply.comment,
        "match_warnings": [w.get("message", "") for w in proposal.match_warnings or []],
        "match_override_reason": proposal.match_override_reason,
    }
