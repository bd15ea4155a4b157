"""Refusal prevention: does this dwelling fit this household's diagnostic?

One place for the rules, used by the landlord's pages, the proposal step and the partner API. The
check only warns: the landlord may go on with a stated reason (Proposal.match_override_reason).

Thresholds are local policy, not law: the taux d'effort formula is regulated but the acceptable rate
and reste-à-vivre are set by each territory (DepartementSettings, editable in the admin); the
persons-per-typology ranges come from the PPGDID_TYPOLOGY_PERSONS setting.

The messages are meant for the landlord: they never say why a commune is on a household's list of
areas to avoid (violence victims), only that the commune is not suitable.
"""

from dataclasses import asdict, dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from . import choices
from .territory import DepartementSettings

# Persons (applicant included, an expected child counts) a typology usually suits. Local practice.
DEFAULT_TYPOLOGY_PERSONS = {
    "T1": (1, 2),
    "T2": (1, 3),
    "T3": (2, 5),
    "T4": (3, 6),
    "T5": (4, 8),
    "T6": (5, None),
}


@dataclass(frozen=True)
class MatchWarning:
    code: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Thresholds:
    max_effort_rate: Decimal
    min_daily_rest_per_uc: Decimal


def thresholds_for(departement: str | None) -> Thresholds:
    row = DepartementSettings.objects.filter(code=departement).first() if departement else None
    if row is None:
        fields = DepartementSettings._meta
        return Thresholds(
            fields.get_field("max_effort_rate").default, fields.get_field("min_daily_rest_per_uc").default
        )
    return Thresholds(row.max_effort_rate, row.min_daily_rest_per_uc)


def _age(birth_date: date, today: date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def household_size(household) -> tuple[int, Decimal]:
    """(persons, consumption units). Members are listed without or with the applicant; both work.

    Consumption units follow the modified OECD scale (INSEE): 1 for the first adult, 0.5 for each
    other person aged 14 or more, 0.3 for each child under 14; an expected child counts as a child.
    """
    today = date.today()
    others = [m for m in household.members.all() if m.relationship != choices.Relationship.APPLICANT]
    persons = 1 + len(others) + sum(1 for m in others if m.pregnancy)
    units = Decimal("1")
    for member in others:
        units += Decimal("0.5") if _age(member.birth_date, today) >= 14 else Decimal("0.3")
        if member.pregnancy:
            units += Decimal("0.3")
    return persons, units


def monthly_income(case) -> Decimal:
    diagnostic = getattr(case, "diagnostic", None)
    if diagnostic is not None and diagnostic.monthly_resources:
        return diagnostic.monthly_resources
    return case.household.monthly_income


def check(case, dwelling, estimated_apl: Decimal | int | None = 0) -> list[MatchWarning]:
    """The conflicts between the dwelling and the case's diagnostic, as landlord-safe messages."""
    warnings: list[MatchWarning] = []
    diagnostic = getattr(case, "diagnostic", None)
    persons, units = household_size(case.household)

    ranges = getattr(settings, "PPGDID_TYPOLOGY_PERSONS", DEFAULT_TYPOLOGY_PERSONS)
    low, high = ranges.get(dwelling.typology, (1, None))
    if persons < low or (high is not None and persons > high):
        warnings.append(
            MatchWarning(
                "typology",
                _("Typologie %(typology)s peu adaptée à un ménage de %(persons)s personne(s).")
                % {"typology": dwelling.typology, "persons": persons},
            )
        )
    elif diagnostic and diagnostic.recommended_typology and diagnostic.recommended_typology != dwelling.typology:
        warnings.append(
            MatchWarning(
                "typology",
                _("Le diagnostic recommande un %(recommended)s ; ce logement est un %(typology)s.")
                % {"recommended": diagnostic.recommended_typology, "typology": dwelling.typology},
            )
        )

    if diagnostic and diagnostic.accessibility_need and not dwelling.wheelchair_accessible:
        warnings.append(
            MatchWarning("accessibility", _("Le ménage a besoin d'un logement accessible en fauteuil roulant."))
        )
    if (
        diagnostic
        and diagnostic.max_floor_without_lift is not None
        and not dwelling.has_lift
        and dwelling.floor > diagnostic.max_floor_without_lift
    ):
        warnings.append(
            MatchWarning(
                "floor",
                _("Sans ascenseur, le ménage ne peut pas monter au-delà du %(max)se étage (logement au %(floor)se).")
                % {"max": diagnostic.max_floor_without_lift, "floor": dwelling.floor},
            )
        )

    income = monthly_income(case)
    housing_cost = dwelling.rent + dwelling.charges - Decimal(estimated_apl or 0)
    housing_cost = max(housing_cost, Decimal("0"))
    limits = thresholds_for(dwelling.commune.departement if dwelling.commune_id else None)
    if income <= 0:
        warnings.append(
            MatchWarning("income_unknown", _("Ressources du ménage non renseignées : taux d'effort non calculable."))
        )
    else:
        rate = (housing_cost * 100 / income).quantize(Decimal("0.1"), ROUND_HALF_UP)
        if rate > limits.max_effort_rate:
            warnings.append(
                MatchWarning(
                    "effort_rate",
                    _(
                        "Taux d'effort de %(rate)s %% (loyer et charges moins APL estimée), au-delà du seuil local de "
                        "%(max)s %%."
                    )
                    % {"rate": rate, "max": limits.max_effort_rate},
                )
            )
        other_charges = diagnostic.monthly_other_charges if diagnostic else Decimal("0")
        daily_rest = ((income - housing_cost - other_charges) / units / 30).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if daily_rest < limits.min_daily_rest_per_uc:
            warnings.append(
                MatchWarning(
                    "reste_a_vivre",
                    _(
                        "Reste-à-vivre de %(rest)s € par jour et par unité de consommation, sous le seuil local de "
                        "%(min)s €."
                    )
                    % {"rest": daily_rest, "min": limits.min_daily_rest_per_uc},
                )
            )

    if diagnostic and diagnostic.pk and diagnostic.areas_to_avoid.filter(pk=dwelling.commune_id).exists():
        # Never say why (the reason may be a violent partner's whereabouts).
        warnings.append(MatchWarning("commune", _("Commune non adaptée pour ce ménage.")))
    return warnings
