"""The synthesis sheet: a case as a committee member may read it, field by field.

Which fields show is decided by permissions.visibility only (visible_fields with the reader's roles);
this module just lays them out by data category.
"""

import logging
from decimal import Decimal

from django.db import models
from django.utils.formats import date_format, number_format

from cases import offers
from cases.models import Case, CaseCriterion, Diagnostic, Household, HouseholdMember
from permissions.categories import CATEGORY_LABELS
from permissions.policy import roles_of
from permissions.roles import COMMISSION_ROLES, Role
from permissions.visibility import FIELD_CATEGORIES, visible_fields

log = logging.getLogger("ppgdid.access")


def committee_roles(user) -> set[str]:
    """The roles a user reads a case with in a committee: their commission roles only, so another
    role they hold elsewhere (social worker in their own organisation…) widens nothing here."""
    return (roles_of(user) & set(COMMISSION_ROLES)) or {Role.COMMISSION_MEMBER}


def _value(obj, field_name):
    field = obj._meta.get_field(field_name)
    if field.many_to_many:
        return ", ".join(str(o) for o in getattr(obj, field_name).all()) or "—"
    value = getattr(obj, field_name)
    if value in (None, ""):
        return "—"
    if field.choices:
        return getattr(obj, f"get_{field_name}_display")()
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, Decimal):
        return f"{number_format(value, 2, force_grouping=True)} €"
    if isinstance(field, models.DateTimeField):
        return date_format(value, "j F Y")
    if isinstance(field, models.DateField):
        return date_format(value, "j F Y")
    return str(value)


def _rows(obj, model, roles, protected):
    label = model._meta.label_lower
    return [
        (FIELD_CATEGORIES[label][name], obj._meta.get_field(name).verbose_name, _value(obj, name))
        for name in visible_fields(roles, model, protected=protected)
    ]


def synthesis(case: Case, user) -> dict:
    """Sections (category label → rows) plus members and criteria tables, for the reader's roles."""
    roles = committee_roles(user)
    protected = case.is_protected
    rows = _rows(case.household, Household, roles, protected) + _rows(case, Case, roles, protected)
    diagnostic = Diagnostic.objects.filter(case=case).first()
    if diagnostic:
        rows += _rows(diagnostic, Diagnostic, roles, protected)
    sections = {}
    for category, label, value in rows:
        sections.setdefault(category, []).append((label, value))
    ordered = [(CATEGORY_LABELS[c], sections[c]) for c in CATEGORY_LABELS if c in sections]

    member_fields = visible_fields(roles, HouseholdMember, protected=protected)
    members = (
        [[_value(m, name) for name in member_fields] for m in case.household.members.all()] if member_fields else []
    )
    criterion_fields = visible_fields(roles, CaseCriterion, protected=protected)
    criteria = [[_value(c, name) for name in criterion_fields] for c in case.criteria.all()]
    log.info("synthesis read user_id=%s case_id=%s", user.pk, case.pk)
    return {
        "sections": ordered,
        "member_headers": [HouseholdMember._meta.get_field(n).verbose_name for n in member_fields],
        "members": members,
        "criterion_headers": [CaseCriterion._meta.get_field(n).verbose_name for n in criterion_fields],
        "criteria": criteria,
        # A loss-of-DALO review shows the refused offer and the match alerts kept despite them.
        "loss_review": offers.loss_review_facts(case),
    }
