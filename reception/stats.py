"""Per-commune figures for applicants: the reference table (CommuneStock, from CSV) plus the product's
own data on priority households, with small numbers masked.

Masking rule (shared/visibility.md: never below a cell size of 5 households): a count from 1 to 4 is
shown as "moins de 5"; a zero is shown as 0 (nothing to hide, and hiding it would make the other cells
guessable); a median or a share computed on fewer than 5 households is not shown. When exactly one
cell of a column is masked and the column has a total, the next smallest cell is masked too, so the
masked one cannot be recovered by subtraction.
"""

import statistics
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import Typology
from cases.models import Proposal

from .models import CommuneStock

THRESHOLD = 5
DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class Figure:
    """A number as shown to the public: its text, and whether it was masked."""

    text: str
    masked: bool = False


def count(value: int | None) -> Figure:
    if value is None:
        return Figure(_("non disponible"))
    if 0 < value < THRESHOLD:
        return Figure(_("moins de 5"), masked=True)
    return Figure(f"{value:,}".replace(",", "\u202f"))  # French thousands separator


def column(values: list[int | None]) -> list[Figure]:
    """Mask a column that is shown with its total (secondary suppression, see the module docstring)."""
    figures = [count(v) for v in values]
    masked = [i for i, f in enumerate(figures) if f.masked]
    if len(masked) == 1:
        others = [(v, i) for i, v in enumerate(values) if i not in masked and v]
        if others:
            _v, i = min(others)
            figures[i] = Figure(_("non communiqué"), masked=True)
    return figures


def months(value: float | None, households: int) -> Figure:
    if value is None or households == 0:
        return Figure(_("non disponible"))
    if households < THRESHOLD:
        return Figure(_("non communiqué (moins de 5 ménages)"), masked=True)
    rounded = round(value)
    return Figure(_("%(n)s mois") % {"n": rounded} if rounded != 1 else _("1 mois"))


def share(part: int, whole: int | None) -> Figure:
    if not whole:
        return Figure(_("non disponible"))
    if 0 < part < THRESHOLD:
        return Figure(_("non communiqué (moins de 5 ménages)"), masked=True)
    return Figure(f"{round(100 * part / whole)} %")


def priority_allocations(commune_codes, since):
    """(typology, months waited) of each lease signed since `since` in these communes: the product's
    priority households, from flagging to lease."""
    rows = Proposal.objects.filter(
        dwelling__commune_id__in=list(commune_codes), lease_signed_on__gte=since
    ).values_list("dwelling__typology", "lease_signed_on", "case__created_at")
    return [
        (typology, (signed - timezone.localtime(flagged).date()).days / DAYS_PER_MONTH)
        for typology, signed, flagged in rows
    ]


@dataclass
class TypologyRow:
    typology: str
    dwellings: Figure
    accessible: Figure
    allocations: Figure
    median_wait_all: Figure
    priority_allocations: Figure
    median_wait_priority: Figure


@dataclass
class CommuneFigures:
    commune: object
    reference_year: int | None
    rows: list[TypologyRow] = field(default_factory=list)
    total_dwellings: Figure | None = None
    total_accessible: Figure | None = None
    total_allocations: Figure | None = None
    total_priority: Figure | None = None
    median_wait_priority: Figure | None = None
    priority_share: Figure | None = None

    @property
    def has_reference(self) -> bool:
        return self.reference_year is not None


def commune_figures(commune, today=None) -> CommuneFigures:
    today = today or timezone.localdate()
    stock = {s.typology: s for s in CommuneStock.objects.filter(commune=commune)}
    since = today - timedelta(days=365)
    waits = priority_allocations([commune.pk], since)
    by_typology: dict[str, list[float]] = {}
    for typology, waited in waits:
        by_typology.setdefault(typology, []).append(waited)
    typologies = [t for t in Typology.values if t in stock or t in by_typology]

    def values(attr):
        return [getattr(stock[t], attr) if t in stock else None for t in typologies]

    dwellings = column(values("dwellings"))
    accessible = column(values("accessible_dwellings"))
    allocations = column(values("allocations_12_months"))
    priority = column([len(by_typology.get(t, [])) for t in typologies])
    figures = CommuneFigures(commune, max((s.reference_year for s in stock.values()), default=None))
    for i, typology in enumerate(typologies):
        row_stock = stock.get(typology)
        waited = by_typology.get(typology, [])
        median_all = row_stock.median_wait_months if row_stock else None
        figures.rows.append(
            TypologyRow(
                typology,
                dwellings[i],
                accessible[i],
                allocations[i],
                Figure(_("%(n)s mois") % {"n": median_all}) if median_all is not None else Figure(_("non disponible")),
                priority[i],
                months(statistics.median(waited) if waited else None, len(waited)),
            )
        )
    total_allocations = sum(v for v in values("allocations_12_months") if v) or None
    figures.total_dwellings = count(sum(v for v in values("dwellings") if v) if stock else None)
    figures.total_accessible = count(sum(v for v in values("accessible_dwellings") if v) if stock else None)
    figures.total_allocations = count(total_allocations)
    figures.total_priority = count(len(waits))
    all_waits = [w for _t, w in waits]
    figures.median_wait_priority = months(statistics.median(all_waits) if all_waits else None, len(all_waits))
    figures.priority_share = share(len(waits), total_allocations)
    return figures


def median_wait_for(communes, typology: str | None, today=None) -> list[tuple[object, Figure, Figure]]:
    """For the household's view: per wished commune, the median wait of all applicants for its
    typology (reference table) and of the priority households rehoused there (product data)."""
    today = today or timezone.localdate()
    since = today - timedelta(days=365)
    result = []
    for commune in communes:
        stock = CommuneStock.objects.filter(commune=commune, typology=typology).first() if typology else None
        waits = [w for t, w in priority_allocations([commune.pk], since) if not typology or t == typology]
        all_applicants = (
            Figure(_("%(n)s mois") % {"n": stock.median_wait_months})
            if stock and stock.median_wait_months is not None
            else Figure(_("non disponible"))
        )
        result.append((commune, all_applicants, months(statistics.median(waits) if waits else None, len(waits))))
    return result
