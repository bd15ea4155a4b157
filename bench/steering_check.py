"""The steering dashboard's figures against counts taken directly from the case tables.

A scan of every case in scope, for checking a volume fixture at a small size (generate_steering_volume
--check, tests/bench/test_steering_volume.py); the dashboard itself never does this.
"""

from datetime import date, datetime, time

from django.contrib.auth import get_user_model
from django.utils import timezone

from cases.models import Case, Proposal
from steering import figures
from steering.aggregates import REHOUSED
from steering.models import Allocation


def _period(filters) -> tuple[datetime, datetime, date, date]:
    start = date.fromisoformat(f"{filters.start}-01")
    year, month = int(filters.end[:4]), int(filters.end[5:])
    end = date(year + month // 12, month % 12 + 1, 1)
    tz = timezone.get_current_timezone()
    return datetime.combine(start, time(), tz), datetime.combine(end, time(), tz), start, end


def compare(today: date, username: str = "bench.commission") -> dict:
    """{figure: (dashboard, direct count)} for this user's territory, from January of this year."""
    user = get_user_model().objects.get(username=username)
    scope = figures.scope_for(user)
    filters = figures.parse_filters({"debut": f"{today:%Y}-01"}, today=today)
    data = figures.dashboard(scope, filters, today=today)
    charts = data["charts"]
    begins, ends, first_day, after_day = _period(filters)
    mine = Case.objects.filter(household__commune__in=scope.commune_ids)
    found = {}
    stock = dict(charts["stock_etape"])
    open_cases = mine.filter(closed_at__isnull=True)
    for status, label in Case._meta.get_field("status").choices:
        if status != "closed":
            found[f"ouverts {status}"] = (stock.get(label, 0), open_cases.filter(status=status).count())
    flows = {str(label): sum(values) for label, values in charts["flux"]["series"]}
    in_period = {"created_at__gte": begins, "created_at__lt": ends}
    found["signalés"] = (flows[str(figures.EVENT_LABELS["flagged"])], mine.filter(**in_period).count())
    found["relogés"] = (
        flows[str(figures.EVENT_LABELS["rehoused"])],
        mine.filter(closed_at__gte=begins, closed_at__lt=ends, closure_reason__in=REHOUSED).count(),
    )
    found["baux signés (attributions)"] = (
        sum(n for _label, n in charts["relogements"]),
        Allocation.objects.filter(
            commune__in=scope.commune_ids, lease_signed_on__gte=first_day, lease_signed_on__lt=after_day
        ).count(),
    )
    offers = figures._counts(scope, filters, "offer", "value")
    found["propositions"] = (
        sum(n for _value, n in offers),
        Proposal.objects.filter(
            dwelling__commune__in=scope.commune_ids, created_at__gte=begins, created_at__lt=ends
        ).count(),
    )
    found["refus"] = (
        sum(n for value, n in offers if value.split("|")[1] in figures.REFUSALS),
        Proposal.objects.filter(
            dwelling__commune__in=scope.commune_ids,
            created_at__gte=begins,
            created_at__lt=ends,
            reply__answer__in=figures.REFUSALS,
        ).count(),
    )
    return found
