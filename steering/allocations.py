"""The allocation record: written when a lease is signed, with what the quotas need at the decision date."""

from django.db import transaction
from django.db.models import Q

from audit.bulk import bulk_update_with_history, redact_history_rows
from cases.audit import system_actor
from cases.models import Proposal

from . import income
from .models import Allocation, TerritoryYear


def threshold_for(epci_siren: str, year: int):
    row = TerritoryYear.objects.filter(epci_siren=epci_siren, year=year).only("first_quartile_threshold").first()
    return row.first_quartile_threshold if row else None


def record_allocation(proposal: Proposal) -> Allocation | None:
    """The allocation of a proposal whose lease is signed (idempotent: one per proposal)."""
    if not proposal.lease_signed_on:
        return None
    existing = Allocation.objects.filter(proposal=proposal).first()
    if existing:
        return existing
    proposal = Proposal.objects.select_related("dwelling__commune", "case__household", "caleol_decision").get(
        pk=proposal.pk
    )
    case, household, dwelling = proposal.case, proposal.case.household, proposal.dwelling
    decision = getattr(proposal, "caleol_decision", None)
    decided_on = decision.decided_on if decision else proposal.lease_signed_on
    units = income.consumption_units(household, list(household.members.all()), decided_on)
    annual = income.annual_income(household)
    per_uc = income.income_per_uc(annual, units)
    threshold = threshold_for(dwelling.commune.epci_siren, decided_on.year)
    return Allocation.objects.create(
        proposal=proposal,
        case=case,
        landlord_id=proposal.landlord_id,
        reservataire_id=dwelling.reservataire_id,
        commune=dwelling.commune,
        epci_siren=dwelling.commune.epci_siren,
        in_qpv=dwelling.in_qpv,
        typology=dwelling.typology,
        is_dalo=case.is_dalo,
        decided_on=decided_on,
        lease_signed_on=proposal.lease_signed_on,
        annual_income=annual,
        consumption_units=units,
        income_per_uc=per_uc,
        quartile_threshold=threshold,
        quartile=income.quartile(per_uc, threshold),
    )


def missing_allocations():
    """Signed leases without their allocation record (for the backfill command)."""
    return Proposal.objects.filter(lease_signed_on__isnull=False).exclude(
        pk__in=Allocation.objects.values("proposal_id")
    )


def backfill(progress=None, batch: int = 500) -> int:
    """Write the missing allocation records (history and audit chain kept), a batch per transaction."""
    ids = list(missing_allocations().order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch):
        with transaction.atomic():
            for proposal in Proposal.objects.filter(pk__in=ids[start : start + batch]).order_by("pk"):
                record_allocation(proposal)
        if progress:
            progress(len(ids[start : start + batch]))
    return len(ids)


# What identifies the household in its allocation records once its case is anonymised: its exact income.
# The quartile code (what the quotas count), the consumption units (composition, kept as a statistic) and
# the territory's threshold stay.
IDENTIFYING = ("annual_income", "income_per_uc")


def scrub_allocations(case_id, rule: str) -> int:
    """Empty the income of a case's allocation records in the live rows (a history row each, chained)
    and in every history row (an audit.Redaction each, which verify_audit_chain accepts). Idempotent:
    rows already empty are left alone. Returns the number of rows changed."""
    holding = Q(annual_income__isnull=False) | Q(income_per_uc__isnull=False)
    history = Allocation.history.model
    ids = list(history.objects.filter(holding, case_id=case_id).values_list("history_id", flat=True))
    live = list(Allocation.objects.filter(holding, case_id=case_id))
    if not ids and not live:
        return 0
    empty = dict.fromkeys(IDENTIFYING)
    # History rows first: the live rows' own new history row is written scrubbed.
    changed = redact_history_rows(history, {pk: empty for pk in ids}, rule=rule, actor_id=system_actor().pk)
    for allocation in live:
        for name in IDENTIFYING:
            setattr(allocation, name, None)
    if live:
        bulk_update_with_history(live, Allocation, list(IDENTIFYING), reason=rule)
    return changed + len(live)
