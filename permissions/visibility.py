"""Field visibility: every field of a household, case and diagnostic belongs to a data category, and
a matrix category × role says what each role may see (shared/visibility.md is the source).

Pages, forms, exports, API serialisers, minutes and notifications all call `visible_fields` /
`can_see`; nothing else decides what a role reads.
"""

from django.utils.translation import gettext_lazy as _

from .roles import Role


class Category:
    IDENTITY = "identity"
    CONTACT = "contact"
    ADDRESS = "address"
    COMPOSITION = "composition"
    RESOURCES = "resources"
    DEBTS = "debts"
    HEALTH = "health"
    VIOLENCE = "violence"
    NARRATIVE = "narrative"
    SYNTHESIS = "synthesis"
    NEEDS = "needs"
    CRITERIA = "criteria"
    DECISIONS = "decisions"


CATEGORY_LABELS = {
    Category.IDENTITY: _("Identité"),
    Category.CONTACT: _("Coordonnées"),
    Category.ADDRESS: _("Adresse actuelle"),
    Category.COMPOSITION: _("Composition du ménage"),
    Category.RESOURCES: _("Ressources"),
    Category.DEBTS: _("Dettes"),
    Category.HEALTH: _("Santé et handicap"),
    Category.VIOLENCE: _("Violences"),
    Category.NARRATIVE: _("Évaluation sociale"),
    Category.SYNTHESIS: _("Synthèse pour la commission"),
    Category.NEEDS: _("Besoins en logement"),
    Category.CRITERIA: _("Critères de priorité"),
    Category.DECISIONS: _("Propositions et décisions"),
}

# Access levels: W write, R read, S summary only (codes and figures, no free text), None hidden.
W, R, S = "W", "R", "S"

C = Category
MATRIX: dict[str, dict[str, str | None]] = {
    Role.RECEPTION: {C.IDENTITY: W, C.CONTACT: W, C.ADDRESS: W, C.COMPOSITION: W, C.NEEDS: W, C.CRITERIA: W},
    Role.SOCIAL_WORKER: {c: W for c in CATEGORY_LABELS} | {C.DECISIONS: R},
    Role.SUPERVISOR: {c: R for c in CATEGORY_LABELS},
    Role.COMMISSION_MEMBER: {
        C.IDENTITY: R, C.COMPOSITION: R, C.RESOURCES: S, C.DEBTS: S, C.SYNTHESIS: R, C.NEEDS: R,
        C.CRITERIA: R, C.DECISIONS: R,
    },
    Role.LANDLORD_AGENT: {
        C.IDENTITY: R, C.CONTACT: R, C.COMPOSITION: R, C.RESOURCES: R, C.NEEDS: R, C.CRITERIA: S,
        C.DECISIONS: W,
    },
    Role.RESERVATAIRE_AGENT: {
        C.IDENTITY: R, C.CONTACT: R, C.COMPOSITION: R, C.RESOURCES: S, C.SYNTHESIS: R, C.NEEDS: R,
        C.CRITERIA: R, C.DECISIONS: R,
    },
    Role.TERRITORY_ADMIN: {},
    Role.AUDITOR: {c: R for c in CATEGORY_LABELS},
    Role.SYSTEM_ADMIN: {},
}
MATRIX[Role.COMMISSION_CHAIR] = MATRIX[Role.COMMISSION_MEMBER]

# Protected cases: address and contact only for the referent's organisation (social workers, supervisors).
PROTECTED_CATEGORIES = {C.ADDRESS, C.CONTACT}
PROTECTED_READERS = {Role.SOCIAL_WORKER, Role.SUPERVISOR}

# model label → field name → category. A field absent from here is shown to nobody by the generic
# renderers: adding a field means deciding its category.
FIELD_CATEGORIES: dict[str, dict[str, str]] = {
    "cases.household": {
        "nud": C.IDENTITY, "applicant_last_name": C.IDENTITY, "applicant_first_name": C.IDENTITY,
        "applicant_birth_date": C.IDENTITY, "residence_status": C.IDENTITY,
        "phone": C.CONTACT, "email": C.CONTACT,
        "address": C.ADDRESS, "commune": C.NEEDS, "housing_situation": C.COMPOSITION, "housing_since": C.COMPOSITION,
        "tax_income_n2": C.RESOURCES, "monthly_wages": C.RESOURCES, "monthly_rsa": C.RESOURCES,
        "monthly_aah": C.RESOURCES, "monthly_family_benefits": C.RESOURCES, "monthly_other_income": C.RESOURCES,
    },
    "cases.householdmember": {
        "first_name": C.IDENTITY, "last_name": C.IDENTITY, "relationship": C.COMPOSITION,
        "birth_date": C.COMPOSITION, "shared_custody": C.COMPOSITION, "pregnancy": C.COMPOSITION,
    },
    "cases.case": {
        "status": C.DECISIONS, "organisation": C.DECISIONS, "referent": C.DECISIONS, "is_protected": C.CRITERIA,
        "is_dalo": C.CRITERIA, "comed_decision_date": C.CRITERIA, "dalo_offer_deadline": C.CRITERIA,
        "designated_landlord": C.DECISIONS, "target_reservataire": C.DECISIONS, "refusal_count": C.DECISIONS,
        "dalo_loss_review_pending": C.DECISIONS, "created_at": C.DECISIONS, "closed_at": C.DECISIONS,
        "closure_reason": C.DECISIONS, "closure_comment": C.NARRATIVE,
    },
    "cases.casecriterion": {"code": C.CRITERIA, "source": C.CRITERIA, "evidence_note": C.NARRATIVE},
    "cases.diagnostic": {
        "family_situation": C.NARRATIVE,
        "monthly_resources": C.RESOURCES, "monthly_housing_cost": C.RESOURCES, "monthly_other_charges": C.RESOURCES,
        "debts_amount": C.DEBTS, "debts_description": C.DEBTS, "over_indebtedness_plan": C.DEBTS,
        "entitlements": C.RESOURCES, "health_autonomy": C.HEALTH, "accessibility_need": C.NEEDS,
        "max_floor_without_lift": C.NEEDS, "work_school_care_locations": C.NEEDS, "housing_history": C.NARRATIVE,
        "independent_living": C.NARRATIVE, "support_needed": C.NEEDS, "violence_facts": C.VIOLENCE,
        "areas_to_avoid": C.NEEDS, "wishes": C.NEEDS, "urgency": C.CRITERIA, "recommended_typology": C.NEEDS,
        "recommended_communes": C.NEEDS, "social_narrative": C.NARRATIVE, "committee_synthesis": C.SYNTHESIS,
        "recommendation": C.SYNTHESIS, "completed_at": C.DECISIONS,
    },
}
# Free-text fields: a "summary only" (S) level never shows them.
FREE_TEXT_FIELDS = {
    "debts_description", "entitlements", "evidence_note", "closure_comment", "family_situation",
}


def level(role: str, category: str) -> str | None:
    return MATRIX.get(role, {}).get(category)


def best_level(roles, category: str) -> str | None:
    order = {W: 3, R: 2, S: 1, None: 0}
    return max((level(r, category) for r in roles), key=lambda lv: order[lv], default=None)


def can_see_category(roles, category: str, *, protected: bool = False) -> bool:
    if protected and category in PROTECTED_CATEGORIES and not (set(roles) & PROTECTED_READERS):
        return False
    return best_level(roles, category) is not None


def can_see_field(roles, model_label: str, field: str, *, protected: bool = False) -> bool:
    category = FIELD_CATEGORIES.get(model_label, {}).get(field)
    if category is None:
        return False
    if best_level(roles, category) == S and field in FREE_TEXT_FIELDS:
        return False
    return can_see_category(roles, category, protected=protected)


def visible_fields(roles, model, *, protected: bool = False) -> list[str]:
    """Names of the fields of `model` the roles may read, in the model's order."""
    label = model._meta.label_lower
    return [
        f.name for f in model._meta.get_fields()
        if f.concrete or f.many_to_many
        if can_see_field(roles, label, f.name, protected=protected)
    ]
