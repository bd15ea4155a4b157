"""Field visibility: every field of a household, case and diagnostic belongs to a data category, and
a matrix category × role says what each role may see (shared/visibility.md is the source).

Pages, forms, exports, API serialisers, minutes and notifications all read it, through
`case_access(user, case)` + `can_see_field(access, ...)`, or the `VisibleCase` presenter
(permissions.presenters) which returns only the values the user may read, with protected values
masked. Nothing else decides what a role reads.

Visibility is computed from the roles through which the user reaches *this* case
(`policy.roles_for_case`), never from all the user's roles.
"""

from dataclasses import dataclass, field

from django.db.models import BigIntegerField, Value
from django.utils import timezone

from cases.models import Case

from .categories import CATEGORY_LABELS, Category
from .models import BreakGlassAccess, CaseShare
from .policy import policy
from .roles import COMMISSION_ROLES, Role

# Access levels: W write, R read, S summary only (codes and figures, no free text), None hidden.
W, R, S = "W", "R", "S"

C = Category
MATRIX: dict[str, dict[str, str | None]] = {
    Role.RECEPTION: {C.IDENTITY: W, C.CONTACT: W, C.ADDRESS: W, C.COMPOSITION: W, C.NEEDS: W, C.CRITERIA: W},
    Role.SOCIAL_WORKER: {c: W for c in CATEGORY_LABELS} | {C.DECISIONS: R},
    Role.SUPERVISOR: {c: R for c in CATEGORY_LABELS},
    Role.COMMISSION_MEMBER: {
        C.IDENTITY: R,
        C.COMPOSITION: R,
        C.RESOURCES: S,
        C.DEBTS: S,
        C.SYNTHESIS: R,
        C.NEEDS: R,
        C.CRITERIA: R,
        C.DECISIONS: R,
    },
    Role.LANDLORD_AGENT: {
        C.IDENTITY: R,
        C.CONTACT: R,
        C.COMPOSITION: R,
        C.RESOURCES: R,
        C.NEEDS: R,
        C.CRITERIA: S,
        C.DECISIONS: W,
    },
    Role.RESERVATAIRE_AGENT: {
        C.IDENTITY: R,
        C.CONTACT: R,
        C.COMPOSITION: R,
        C.RESOURCES: S,
        C.SYNTHESIS: R,
        C.NEEDS: R,
        C.CRITERIA: R,
        C.DECISIONS: R,
    },
    Role.TERRITORY_ADMIN: {},
    Role.AUDITOR: {c: R for c in CATEGORY_LABELS},
    Role.SYSTEM_ADMIN: {},
}
MATRIX[Role.COMMISSION_CHAIR] = MATRIX[Role.COMMISSION_MEMBER]

# Protected cases: current address and contact are masked for everyone except the referent and the
# supervisors of the case's organisation, whatever the matrix says (and a break-the-glass access).
PROTECTED_CATEGORIES = {C.ADDRESS, C.CONTACT}

# Protected cases: the lists of communes to avoid and recommended can tell where the aggressor lives
# (shared/visibility.md: the reasons behind areas to avoid are violence data). On a protected case
# they go with the violence category: whoever may not read it sees neither list, only the match
# check's "commune non adaptée" (cases.matching). Whatever the needs column of the matrix says.
PROTECTED_AREA_FIELDS = {("cases.diagnostic", "areas_to_avoid"), ("cases.diagnostic", "recommended_communes")}

# model label → field name → category. A field absent from here is shown to nobody by the generic
# renderers: adding a field means deciding its category.
FIELD_CATEGORIES: dict[str, dict[str, str]] = {
    "cases.household": {
        "nud": C.IDENTITY,
        "applicant_last_name": C.IDENTITY,
        "applicant_first_name": C.IDENTITY,
        "applicant_birth_date": C.IDENTITY,
        "residence_status": C.IDENTITY,
        "phone": C.CONTACT,
        "email": C.CONTACT,
        # The commune is part of the current address (a protected household's commune is masked too);
        # commission members see the commune only (COMMUNE_ONLY below).
        "address": C.ADDRESS,
        "commune": C.ADDRESS,
        "housing_situation": C.CRITERIA,
        "housing_since": C.CRITERIA,
        "tax_income_n2": C.RESOURCES,
        "monthly_wages": C.RESOURCES,
        "monthly_rsa": C.RESOURCES,
        "monthly_aah": C.RESOURCES,
        "monthly_family_benefits": C.RESOURCES,
        "monthly_other_income": C.RESOURCES,
    },
    "cases.householdmember": {
        "first_name": C.IDENTITY,
        "last_name": C.IDENTITY,
        "relationship": C.COMPOSITION,
        "birth_date": C.COMPOSITION,
        "shared_custody": C.COMPOSITION,
        "pregnancy": C.COMPOSITION,
    },
    "cases.case": {
        "status": C.DECISIONS,
        "organisation": C.DECISIONS,
        "referent": C.DECISIONS,
        "is_protected": C.CRITERIA,
        "is_dalo": C.CRITERIA,
        "comed_decision_date": C.CRITERIA,
        "dalo_offer_deadline": C.CRITERIA,
        "designated_landlord": C.DECISIONS,
        "target_reservataire": C.DECISIONS,
        "refusal_count": C.DECISIONS,
        "dalo_loss_review_pending": C.DECISIONS,
        "created_at": C.DECISIONS,
        "closed_at": C.DECISIONS,
        "closure_reason": C.DECISIONS,
        "decided_in_committee": C.DECISIONS,
        "closure_comment": C.NARRATIVE,
    },
    "cases.casecriterion": {"code": C.CRITERIA, "source": C.CRITERIA, "evidence_note": C.NARRATIVE},
    "cases.diagnostic": {
        "family_situation": C.NARRATIVE,
        "monthly_resources": C.RESOURCES,
        "monthly_housing_cost": C.RESOURCES,
        "monthly_other_charges": C.RESOURCES,
        "debts_amount": C.DEBTS,
        "debts_description": C.DEBTS,
        "over_indebtedness_plan": C.DEBTS,
        "entitlements": C.RESOURCES,
        "health_autonomy": C.HEALTH,
        "accessibility_need": C.NEEDS,
        # Where the household works, studies and gets care locates it as precisely as an address.
        "max_floor_without_lift": C.NEEDS,
        "work_school_care_locations": C.ADDRESS,
        "housing_history": C.NARRATIVE,
        "independent_living": C.NARRATIVE,
        "support_needed": C.NEEDS,
        "violence_facts": C.VIOLENCE,
        # The list of communes to avoid is a housing need (a landlord sees "not suitable"), never why;
        # on a protected case it is hidden from whoever may not read violence data (PROTECTED_AREA_FIELDS).
        "areas_to_avoid": C.NEEDS,
        "wishes": C.NEEDS,
        "urgency": C.CRITERIA,
        "recommended_typology": C.NEEDS,
        "recommended_communes": C.NEEDS,
        "social_narrative": C.NARRATIVE,
        "committee_synthesis": C.SYNTHESIS,
        "recommendation": C.SYNTHESIS,
        "completed_at": C.DECISIONS,
    },
    "cases.committeereview": {
        "kind": C.DECISIONS,
        "outcome": C.DECISIONS,
        "orientation": C.DECISIONS,
        "target_reservataire": C.DECISIONS,
        "designated_landlord": C.DECISIONS,
        "support_measure": C.DECISIONS,
        "adjourned_until": C.DECISIONS,
        "redirected_to": C.DECISIONS,
        "dalo_benefit_lost": C.DECISIONS,
        "decided_at": C.DECISIONS,
        # The committee's own free text discusses the situation: it travels with the synthesis.
        "missing_items": C.SYNTHESIS,
        "reason": C.SYNTHESIS,
    },
    "cases.proposal": {
        "dwelling": C.DECISIONS,
        "dalo_notice_given_at": C.DECISIONS,
        "match_override_reason": C.DECISIONS,
        "notified_on": C.DECISIONS,
        "reply_deadline": C.DECISIONS,
        "lease_signed_on": C.DECISIONS,
        "created_at": C.DECISIONS,
    },
    "cases.caleoldecision": {
        "decision": C.DECISIONS,
        "rank": C.DECISIONS,
        "missing_document": C.DECISIONS,
        "condition_deadline": C.DECISIONS,
        "non_allocation_reason": C.DECISIONS,
        "inadmissibility_reason": C.DECISIONS,
        "reasons_detail": C.DECISIONS,
        "decided_on": C.DECISIONS,
    },
    # The State priority-pool tool's results brought back onto a case (exchanges.state_pool).
    "exchanges.poolresult": {
        "kind": C.DECISIONS,
        "on": C.DECISIONS,
        "reservataire": C.DECISIONS,
        "dwelling_rpls": C.DECISIONS,
        "dwelling": C.DECISIONS,
    },
    "cases.householdreply": {
        "answer": C.DECISIONS,
        "refusal_motive": C.DECISIONS,
        "legitimate": C.DECISIONS,
        "comment": C.DECISIONS,
        "replied_on": C.DECISIONS,
    },
}
# Free-text fields: a "summary only" (S) level never shows them.
FREE_TEXT_FIELDS = {
    "debts_description",
    "entitlements",
    "evidence_note",
    "closure_comment",
    "family_situation",
    "wishes",
    "housing_history",
    "independent_living",
    "social_narrative",
    "committee_synthesis",
    "recommendation",
    "health_autonomy",
    "violence_facts",
    "work_school_care_locations",
    "missing_items",
    "reason",
}
# "Current address: — (commune only)" for commission members (shared/visibility.md).
COMMUNE_ONLY = {("cases.household", "commune"): set(COMMISSION_ROLES)}

ORDER = {W: 3, R: 2, S: 1, None: 0}


def level(role: str, category: str) -> str | None:
    return MATRIX.get(role, {}).get(category)


def best_level(roles, category: str) -> str | None:
    return max((level(r, category) for r in roles), key=lambda lv: ORDER[lv], default=None)


@dataclass(frozen=True)
class CaseAccess:
    """What one user may read on one case: the roles reaching it, and the case-specific exceptions."""

    roles: frozenset = frozenset()
    protected: bool = False
    # The referent, a supervisor of the case's organisation, or an open break-the-glass access.
    unmasked: bool = False
    # Categories shared with one of the organisations through which the user reaches the case.
    shared: frozenset = field(default_factory=frozenset)

    def category_level(self, category: str) -> str | None:
        if self.protected and category in PROTECTED_CATEGORIES and not self.unmasked:
            return None
        found = best_level(self.roles, category)
        if found is None and category in self.shared:
            return R
        return found

    def masked(self, category: str) -> bool:
        """True when the category would be visible but the protection hides it (shown as "masqué")."""
        return (
            self.protected
            and category in PROTECTED_CATEGORIES
            and not self.unmasked
            and (best_level(self.roles, category) is not None or category in self.shared)
        )


def case_access(user, case) -> CaseAccess:
    """The access of `user` to `case`, from the memberships that actually reach it (two or three queries)."""

    grants = policy.reaching_grants(user, case)
    if not grants:
        return CaseAccess()
    roles = frozenset(g.role for g in grants)
    unmasked = not case.is_protected
    if case.is_protected:
        unmasked = (Role.SOCIAL_WORKER in roles and case.referent_id == user.pk) or any(
            g.role == Role.SUPERVISOR and g.organisation_id == case.organisation_id for g in grants
        )
        if not unmasked:
            preloaded = getattr(case, "_ppgdid_glass_open", None)  # set by policy.case_or_404
            unmasked = (
                preloaded
                if preloaded is not None
                else BreakGlassAccess.objects.filter(case=case, user=user, expires_at__gt=timezone.now()).exists()
            )
    org_ids = {g.organisation_id for g in grants}
    shared = frozenset(
        CaseShare.objects.filter(
            case=case, organisation_id__in=org_ids, revoked_at__isnull=True, ends_on__gte=timezone.localdate()
        ).values_list("category", flat=True)
    )
    return CaseAccess(roles=roles, protected=case.is_protected, unmasked=unmasked, shared=shared)


def case_accesses(user, cases, *, columns=None) -> dict:
    """`case_access` for many cases at once (exports, API lists): two queries whatever their number (the reach;
    the shares with the break-the-glass accesses).

    `columns`: the cases were read with `policy.annotate_reach` (lists), whose columns are on them:
    one query fewer. Break-the-glass accesses are read only when a case is protected."""
    cases = list(cases)
    if not cases:
        return {}

    if columns is None:
        qs, columns = policy.annotate_reach(Case.objects.filter(pk__in=[c.pk for c in cases]), user)
        reach = {row["pk"]: row for row in qs.values("pk", *[name for name, _g in columns])}
    else:
        reach = {c.pk: {name: getattr(c, name) for name, _g in columns} for c in cases}
    protected = [c.pk for c in cases if c.is_protected]
    rows = (
        CaseShare.objects.filter(case_id__in=reach, revoked_at__isnull=True, ends_on__gte=timezone.localdate())
        .values_list("case_id", "organisation_id", "category")
        .order_by()
    )
    if protected:  # the user's break-the-glass accesses in the same query, as rows without organisation
        rows = rows.union(
            BreakGlassAccess.objects.filter(case_id__in=protected, user=user, expires_at__gt=timezone.now())
            .annotate(no_org=Value(None, output_field=BigIntegerField()), no_category=Value(""))
            .values_list("case_id", "no_org", "no_category")
            .order_by(),
            all=True,
        )
    glass: set = set()
    shares: dict[tuple, set] = {}
    for case_id, org_id, category in rows:
        if org_id is None:
            glass.add(case_id)
        else:
            shares.setdefault((case_id, org_id), set()).add(category)
    out = {}
    for case in cases:
        row = reach.get(case.pk, {})
        grants = [g for name, g in columns if row.get(name)]
        roles = frozenset(g.role for g in grants)
        unmasked = (
            (not case.is_protected)
            or case.pk in glass
            or (Role.SOCIAL_WORKER in roles and case.referent_id == user.pk)
            or any(g.role == Role.SUPERVISOR and g.organisation_id == case.organisation_id for g in grants)
        )
        shared = frozenset().union(*(shares.get((case.pk, g.organisation_id), set()) for g in grants))
        out[case.pk] = (
            CaseAccess(roles=roles, protected=case.is_protected, unmasked=unmasked, shared=shared)
            if grants
            else CaseAccess()
        )
    return out


def _as_access(roles_or_access, protected: bool) -> CaseAccess:
    if isinstance(roles_or_access, CaseAccess):
        return roles_or_access
    # Role-only callers (no case at hand): protection masks unless nothing is protected.
    return CaseAccess(roles=frozenset(roles_or_access), protected=protected, unmasked=False)


def field_level(roles_or_access, model_label: str, field_name: str, *, protected: bool = False) -> str | None:
    access = _as_access(roles_or_access, protected)
    category = FIELD_CATEGORIES.get(model_label, {}).get(field_name)
    if category is None:
        return None
    if access.protected and (model_label, field_name) in PROTECTED_AREA_FIELDS:
        if access.category_level(Category.VIOLENCE) is None:
            return None
    found = access.category_level(category)
    if found is None and not (access.protected and not access.unmasked and category in PROTECTED_CATEGORIES):
        if access.roles & COMMUNE_ONLY.get((model_label, field_name), set()):
            found = R
    if found == S and field_name in FREE_TEXT_FIELDS:
        return None
    return found


def can_see_category(roles_or_access, category: str, *, protected: bool = False) -> bool:
    return _as_access(roles_or_access, protected).category_level(category) is not None


def can_see_field(roles_or_access, model_label: str, field_name: str, *, protected: bool = False) -> bool:
    return field_level(roles_or_access, model_label, field_name, protected=protected) is not None


def can_write_field(roles_or_access, model_label: str, field_name: str, *, protected: bool = False) -> bool:
    return field_level(roles_or_access, model_label, field_name, protected=protected) == W


def is_masked(access: CaseAccess, model_label: str, field_name: str) -> bool:
    category = FIELD_CATEGORIES.get(model_label, {}).get(field_name)
    return category is not None and access.masked(category)


def visible_fields(roles_or_access, model, *, protected: bool = False) -> list[str]:
    """Names of the fields of `model` the roles (or the case access) may read, in the model's order."""
    label = model._meta.label_lower
    return [
        f.name
        for f in model._meta.get_fields()
        if (f.concrete or f.many_to_many) and can_see_field(roles_or_access, label, f.name, protected=protected)
    ]
