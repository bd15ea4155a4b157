"""Refusal report: why households refuse offers, by landlord, commune, typology and QPV.

Aggregates only, and never below a cell size of 5 households (shared/visibility.md): a smaller count
is shown as "< 5". Scope: a landlord agent sees refusals of its own dwellings; commission members,
chairs and territory admins see the dwellings of their territory's communes.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases import choices
from cases.models import HouseholdReply
from permissions.policy import memberships_of
from permissions.roles import COMMISSION_ROLES, Role

MIN_CELL = 5

DIMENSIONS = {
    "landlord": (_("Bailleur"), "proposal__dwelling__landlord__name"),
    "commune": (_("Commune"), "proposal__dwelling__commune__name"),
    "typology": (_("Typologie"), "proposal__dwelling__typology"),
    "qpv": (_("Quartier prioritaire (QPV)"), "proposal__dwelling__in_qpv"),
}


def scope_q(user) -> Q | None:
    """Which refusals the user may count; None: no access to the report."""
    if user.is_superuser:
        return Q()
    q = None
    for grant in memberships_of(user):
        if grant.role == Role.LANDLORD_AGENT:
            part = Q(proposal__dwelling__landlord_id=grant.organisation_id)
        elif grant.role in COMMISSION_ROLES or grant.role == Role.TERRITORY_ADMIN:
            part = Q(proposal__dwelling__commune_id__in=grant.commune_ids)
        else:
            continue
        q = part if q is None else q | part
    return q


@dataclass
class Row:
    label: str
    cells: list  # one per motive: an int, or None when masked
    total: int | None


def masked(n: int) -> int | None:
    return n if n >= MIN_CELL else None


def refusal_report(user, dimension: str) -> dict | None:
    q = scope_q(user)
    if q is None:
        return None
    title, path = DIMENSIONS[dimension]
    refusals = HouseholdReply.objects.filter(q).filter(
        answer__in=[choices.ReplyAnswer.REFUSED, choices.ReplyAnswer.NO_REPLY]
    )
    counts: dict = defaultdict(Counter)
    for value, motive in refusals.values_list(path, "refusal_motive"):
        counts[value][motive] += 1
    motives = list(choices.RefusalMotive)
    rows = []
    for value in sorted(counts, key=lambda v: str(v)):
        label = (_("En QPV") if value else _("Hors QPV")) if dimension == "qpv" else str(value)
        total = sum(counts[value].values())
        cells = [masked(counts[value][m]) if total >= MIN_CELL else None for m in motives]
        rows.append(Row(label, cells, masked(total)))
    grand = sum(sum(c.values()) for c in counts.values())
    return {
        "dimension": dimension,
        "dimension_title": title,
        "motives": [m.label for m in motives],
        "rows": rows,
        "total": masked(grand),
        "min_cell": MIN_CELL,
    }
