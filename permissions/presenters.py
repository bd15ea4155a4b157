"""`VisibleCase`: what one user may read of one case, and nothing else.

Pages, exports and API serialisers build their output from it instead of reading model fields, so a
field the matrix hides never reaches a template, a spreadsheet cell or a JSON key:

    view = VisibleCase(request.user, case)
    view.section("household")      # [VisibleField(name, label, value, masked), ...]
    view.value("diagnostic", "committee_synthesis")   # None when hidden
    view.as_dict()                 # nested dict of visible values, for exports and the API

Protected values the user may not read are present as `masked=True` with the text MASKED, so the
reader knows something is withheld without learning what.
"""

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .policy import CASE_RELATED, record_case_read
from .visibility import CaseAccess, case_access, case_accesses, field_level, is_masked

MASKED = _("Masqué (dossier protégé)")


@dataclass(frozen=True)
class VisibleField:
    name: str
    label: Any  # the field's verbose name (lazy: translated when rendered)
    value: Any  # display value (str or lazy str, list of str, bool, number, date) or MASKED
    raw: Any  # the stored value (code, id) for APIs; None when masked
    masked: bool = False
    writable: bool = False


def _display(obj, f) -> tuple[Any, Any]:
    if f.many_to_many:
        items = list(getattr(obj, f.name).all())
        return [str(i) for i in items], [i.pk for i in items]
    raw = getattr(obj, f.attname)
    if f.choices:
        return _choice_labels(f).get(raw, raw), raw
    if isinstance(f, models.ForeignKey):
        related = getattr(obj, f.name)
        return (str(related) if related is not None else None), raw
    return raw, raw


_CHOICES: dict = {}


def _choice_labels(f) -> dict:
    # get_FOO_display() hashes every lazy label on each call: far too slow for a list of 50 rows.
    key = (f.model._meta.label_lower, f.name)
    if key not in _CHOICES:
        _CHOICES[key] = {value: label for value, label in f.flatchoices}
    return _CHOICES[key]


def visible_values(access: CaseAccess, obj) -> list[VisibleField]:
    """The fields of one model instance the access allows, in the model's order."""
    if obj is None:
        return []
    label = obj._meta.label_lower
    out = []
    for f in obj._meta.get_fields():
        if not (f.concrete or f.many_to_many) or f.auto_created:
            continue
        if is_masked(access, label, f.name):
            out.append(VisibleField(f.name, f.verbose_name, MASKED, None, masked=True))
            continue
        lvl = field_level(access, label, f.name)
        if lvl is None:
            continue
        value, raw = _display(obj, f)
        out.append(VisibleField(f.name, f.verbose_name, value, raw, writable=lvl == "W"))
    return out


def _plain(value):
    """Lazy translations to str, so exports and JSON get text."""
    if isinstance(value, Promise):
        return str(value)
    return value


class VisibleCase:
    """Only the visible field values of one case for one user (see module docstring)."""

    def __init__(self, user, case, *, access: CaseAccess | None = None):
        self.user = user
        self.case = case
        self.access = access if access is not None else case_access(user, case)

    @property
    def reference(self) -> str:
        return self.case.reference

    def _objects(self, section: str):
        case = self.case
        if section == "case":
            return [case]
        if section == "household":
            return [case.household]
        if section == "members":
            return list(case.household.members.all())
        if section == "criteria":
            return list(case.criteria.all())
        if section == "diagnostic":
            return [getattr(case, "diagnostic", None)]
        if section == "committee_reviews":
            return list(case.committee_reviews.all())
        if section == "proposals":
            return list(case.proposals.select_related("dwelling", "dwelling__commune"))
        raise ValueError(section)

    SECTIONS = ("case", "household", "members", "criteria", "diagnostic", "committee_reviews", "proposals")

    def section(self, section: str) -> list[VisibleField]:
        """Visible fields of a one-object section (case, household, diagnostic)."""
        objects = self._objects(section)
        return visible_values(self.access, objects[0]) if objects else []

    def rows(self, section: str) -> list[list[VisibleField]]:
        """Visible fields of each object of a many-object section (members, criteria, proposals...)."""
        if section == "proposals":
            return [self._proposal_row(p) for p in self._objects(section)]
        return [visible_values(self.access, obj) for obj in self._objects(section)]

    def _proposal_row(self, proposal) -> list[VisibleField]:
        row = visible_values(self.access, proposal)
        for related in ("caleol_decision", "reply"):
            try:
                row += visible_values(self.access, getattr(proposal, related))
            except models.ObjectDoesNotExist:
                pass
        return row

    # What a case list shows per row (case and household fields); select_related these on the queryset.
    LIST_RELATED = CASE_RELATED

    def list_row(self) -> dict:
        """The visible case and household values of one list row, without touching other tables."""
        fields = self.section("case") + self.section("household")
        return {"reference": self.reference} | {f.name: f.value for f in fields}  # values may be lazy

    def value(self, section: str, field_name: str, default=None):
        for f in self.section(section):
            if f.name == field_name:
                return f.value
        return default

    def can_see(self, section_model_label: str, field_name: str) -> bool:
        return field_level(self.access, section_model_label, field_name) is not None

    def as_dict(self, *, raw: bool = False) -> dict:
        """All visible values, nested by section: the one source for exports and API answers."""

        def flat(fields):
            return {f.name: _plain(f.raw if raw and not f.masked else f.value) for f in fields}

        out = {"reference": self.reference}
        for section in self.SECTIONS:
            if section in ("case", "household", "diagnostic"):
                values = flat(self.section(section))
                if values:
                    out[section] = values
            else:
                rows = [flat(r) for r in self.rows(section)]
                rows = [r for r in rows if r]
                if rows:
                    out[section] = rows
        return out


def visible_cases(user, queryset, *, section: str = "export"):
    """`VisibleCase` for every case of a queryset already scoped by the policy, for exports and API lists.

    Roles per case come from the same query as the rows (policy.annotate_reach); shares and
    break-the-glass accesses are read in one query each. Reads are logged as the rules require.
    """
    cases = list(queryset)
    accesses = case_accesses(user, cases)
    for case in cases:
        record_case_read(user, case, section)
        yield VisibleCase(user, case, access=accesses[case.pk])
