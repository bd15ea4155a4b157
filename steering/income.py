"""Income per consumption unit and quartile, as the first-quartile rule of article L441-1 CCH counts them.

Consumption units follow the modified OECD scale (the INSEE one, used for the published quartile
thresholds): 1 for the first adult, 0.5 for each other person aged 14 or more, 0.3 for each child under 14.
Annual resources are the declared monthly resources times twelve (as the SNE application states them),
or else the reference tax income of year N-2.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from cases.choices import Relationship

ADULT_AGE = 14


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def consumption_units(household, members, day: date) -> Decimal:
    """`members`: the household's HouseholdMember rows (the applicant may or may not be one of them)."""
    others = [m for m in members if m.relationship != Relationship.APPLICANT]
    units = Decimal("1")  # the applicant, an adult
    for member in others:
        units += Decimal("0.5") if age_on(member.birth_date, day) >= ADULT_AGE else Decimal("0.3")
    return units


def annual_income(household) -> Decimal | None:
    monthly = household.monthly_income
    if monthly and monthly > 0:
        return monthly * 12
    return household.tax_income_n2


def income_per_uc(income: Decimal | None, units: Decimal) -> Decimal | None:
    if income is None:
        return None
    return (income / units).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def quartile(per_uc: Decimal | None, threshold: Decimal | None) -> int | None:
    """1 (first quartile) when the income per unit is at or below the year's threshold, 2 otherwise;
    None when either is unknown."""
    if per_uc is None or threshold is None:
        return None
    return 1 if per_uc <= threshold else 2
