from datetime import date
from decimal import Decimal

from cases.choices import Relationship
from steering import income


class Member:
    def __init__(self, relationship, birth):
        self.relationship, self.birth_date = relationship, birth


def test_consumption_units_modified_oecd_scale():
    day = date(2026, 6, 1)
    members = [
        Member(Relationship.APPLICANT, date(1980, 1, 1)),  # the applicant counts once, as the first adult
        Member(Relationship.SPOUSE, date(1982, 1, 1)),  # 0.5
        Member(Relationship.CHILD, date(2012, 5, 31)),  # 14 the day before: 0.5
        Member(Relationship.CHILD, date(2012, 6, 2)),  # 13: 0.3
    ]
    assert income.consumption_units(None, members, day) == Decimal("2.3")
    assert income.consumption_units(None, [], day) == Decimal("1")


def test_income_per_unit_and_quartile():
    per_uc = income.income_per_uc(Decimal("23000"), Decimal("2.3"))
    assert per_uc == Decimal("10000.00")
    assert income.quartile(per_uc, Decimal("10000")) == 1  # at the threshold: first quartile
    assert income.quartile(per_uc, Decimal("9999.99")) == 2
    assert income.quartile(per_uc, None) is None
    assert income.quartile(None, Decimal("1")) is None
