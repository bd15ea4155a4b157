"""Cases written directly (no workflow) at chosen dates, for hand-counted steering figures."""

from datetime import UTC, date, datetime
from decimal import Decimal

from cases import choices
from cases.models import CaleolDecision, Case, CaseCriterion, CommitteeReview, Diagnostic, HouseholdReply, Proposal
from tests.factories import DwellingFactory, HouseholdFactory

EPCI_TPM = "248300543"


def at(day: date, hour=10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def open_case(world, *, status, criteria=("i",), is_dalo=False, protected=False, created=date(2026, 1, 5), **extra):
    case = Case.objects.create(
        household=HouseholdFactory(),
        organisation=world.ccas,
        referent=world.social_worker,
        status=status,
        is_dalo=is_dalo,
        is_protected=protected,
        comed_decision_date=date(2026, 1, 5) if is_dalo else None,
        **extra,
    )
    Case.objects.filter(pk=case.pk).update(created_at=at(created))
    case.refresh_from_db()
    for code in criteria:
        CaseCriterion.objects.create(case=case, code=code, source=choices.CriterionSource.SOCIAL_WORKER)
    return case


def proposal(world, case, *, landlord, reservataire=None, in_qpv=False, created=date(2026, 2, 1), typology="T3"):
    dwelling = DwellingFactory(landlord=landlord, reservataire=reservataire, in_qpv=in_qpv, typology=typology)
    p = Proposal.objects.create(case=case, dwelling=dwelling, created_by=world.landlord_agent, notified_on=created)
    Proposal.objects.filter(pk=p.pk).update(created_at=at(created))
    p.refresh_from_db()
    return p


def reply(p, answer, motive="", on=date(2026, 2, 10)):
    return HouseholdReply.objects.create(proposal=p, answer=answer, refusal_motive=motive, replied_on=on)


def rehoused_case(
    world,
    *,
    landlord,
    reservataire=None,
    in_qpv=False,
    is_dalo=False,
    monthly_wages=Decimal("1500"),
    created=date(2026, 1, 5),
    lease=date(2026, 3, 10),
    refused_first=None,
):
    """A case flagged on `created`, labelled, rehoused by `landlord` on `lease` (allocation recorded)."""
    case = open_case(world, status=choices.CaseStatus.LEASE, is_dalo=is_dalo, created=created)
    household = case.household
    household.monthly_wages = monthly_wages
    household.save()
    Diagnostic.objects.create(case=case, completed_at=at(date(created.year, created.month, 15)))
    review = CommitteeReview.objects.create(
        case=case,
        outcome=choices.CommitteeOutcome.LABELLED,
        orientation=choices.Orientation.ORDINARY,
        designated_landlord=landlord,
        target_reservataire=reservataire,
        decided_by=world.commission,
    )
    CommitteeReview.objects.filter(pk=review.pk).update(decided_at=at(date(created.year, created.month, 25)))
    if refused_first:
        first = proposal(world, case, landlord=landlord, reservataire=reservataire, in_qpv=in_qpv)
        reply(first, choices.ReplyAnswer.REFUSED, refused_first)
    p = proposal(world, case, landlord=landlord, reservataire=reservataire, in_qpv=in_qpv, created=date(2026, 2, 15))
    CaleolDecision.objects.create(
        proposal=p, decision=choices.CaleolDecisionType.ALLOCATED, decided_on=date(2026, 2, 20)
    )
    reply(p, choices.ReplyAnswer.ACCEPTED, on=date(2026, 2, 25))
    p.lease_signed_on = lease
    p.save()  # the steering receiver writes the allocation record
    case.status = choices.CaseStatus.CLOSED
    case.closure_reason = choices.ClosureReason.REHOUSED_SOCIAL
    case.closed_at = at(lease, 17)
    case.save()
    return case
