"""Retention rules: per data category (permissions.categories), how long after a case closes its values
are kept before anonymisation, and what anonymising them means, field by field.

The defaults below are a starting point, **to be confirmed by each territory's data-protection
officer** (a territory sets its own values in `privacy.models.RetentionRule`, admin "Règles de
conservation"). Their sources:

- CNIL, référentiel « durées de conservation » du secteur social et médico-social (délibération
  n° 2023-095 du 14 septembre 2023): social support files (accueil, hébergement, accompagnement
  social) are kept in the active base 2 years after the last contact with the person, then
  destroyed or anonymised unless a legal obligation or a dispute requires intermediate archiving.
  A closed case is the last contact here: 24 months after closure.
- CNIL, référentiel relatif à la gestion locative sociale (bailleurs sociaux; attributions,
  demandes de logement): the applicant's data end with the application or the lease; what the
  landlords keep under their own lease management is theirs, not this product's.
- RGPD art. 5.1.e and 89: statistics are kept without persons (counts, codes, figures: composition,
  resources as figures, needs, criteria codes, decisions), so the categories below marked "kept"
  have no deadline: once identity, contact and address are gone they no longer relate to a person.
- A legal hold (litigation, DALO appeal: art. L441-2-3-1 CCH) suspends every rule of the case
  (intermediate archiving "en cas de contentieux").

What each rule scrubs, in the live rows and in every history row of these models, is `SCRUB`.
"""

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext_lazy as _

from permissions.categories import CATEGORY_LABELS, Category

C = Category

CNIL_SOCIAL = _(
    "CNIL, référentiel durées de conservation du secteur social et médico-social (délib. 2023-095) : "
    "2 ans après le dernier contact, puis suppression ou anonymisation"
)
CNIL_HOUSING = _("CNIL, référentiel gestion locative sociale : la durée de la demande ou du bail, puis anonymisation")
KEPT = _("Statistiques sans personnes (RGPD art. 5.1.e et 89) : conservé, plus rattaché à une personne")


@dataclass(frozen=True)
class Default:
    months: int | None  # None: kept (statistics without persons)
    source: str


# Months after closure before anonymisation, per category. To be confirmed by the territory's DPO.
DEFAULTS: dict[str, Default] = {
    C.IDENTITY: Default(24, CNIL_SOCIAL),
    C.CONTACT: Default(24, CNIL_SOCIAL),
    C.ADDRESS: Default(24, CNIL_SOCIAL),
    C.DEBTS: Default(24, CNIL_SOCIAL),
    C.HEALTH: Default(24, CNIL_SOCIAL),
    C.VIOLENCE: Default(24, CNIL_SOCIAL),
    C.NARRATIVE: Default(24, CNIL_SOCIAL),
    C.SYNTHESIS: Default(24, CNIL_HOUSING),
    C.COMPOSITION: Default(None, KEPT),
    C.RESOURCES: Default(None, KEPT),
    C.NEEDS: Default(None, KEPT),
    C.CRITERIA: Default(None, KEPT),
    C.DECISIONS: Default(None, KEPT),
}
assert set(DEFAULTS) == set(CATEGORY_LABELS)  # noqa: S101 - adding a category means deciding its retention

EMPTY = ""


def year_only(value):
    """A birth date keeps its year (ages for the statistics), as 1 January."""
    return date(value.year, 1, 1) if value else value


def anonymous_nud(row):
    # Unique and recognisable, not a valid NUD (no département code + year + sequence).
    return f"ANON{row['id']:014d}"


def _empty(_row):
    return EMPTY


def _anonymous_name(_row):
    return "Anonyme"


def _year(field):
    return lambda row: year_only(row[field])


def _clear_list(_row):
    return []  # an m2m list: emptied


# category → model label → {field attname: function(row values) → new value}. Reaches the live
# rows and every history row of these models (history rows carry the same columns).
SCRUB: dict[str, dict[str, dict]] = {
    C.IDENTITY: {
        "cases.household": {
            "nud": anonymous_nud,
            "applicant_last_name": _anonymous_name,
            "applicant_first_name": _empty,
            "applicant_birth_date": _year("applicant_birth_date"),
        },
        "cases.householdmember": {
            "first_name": _empty,
            "last_name": _anonymous_name,
            "birth_date": _year("birth_date"),
        },
    },
    C.CONTACT: {"cases.household": {"phone": _empty, "email": _empty}},
    # The commune stays (address → commune): statistics by commune.
    C.ADDRESS: {"cases.household": {"address": _empty}},
    C.DEBTS: {"cases.diagnostic": {"debts_description": _empty}},
    C.HEALTH: {"cases.diagnostic": {"health_autonomy": _empty}},
    C.VIOLENCE: {"cases.diagnostic": {"violence_facts": _empty, "areas_to_avoid": _clear_list}},
    C.NARRATIVE: {
        "cases.diagnostic": {
            name: _empty
            for name in (
                "family_situation",
                "entitlements",
                "work_school_care_locations",
                "housing_history",
                "independent_living",
                "wishes",
                "social_narrative",
                "recommendation",
            )
        },
        # Free texts elsewhere in the case file.
        "cases.case": {"closure_comment": _empty},
        "cases.casecriterion": {"evidence_note": _empty},
        "cases.committeereview": {"missing_items": _empty, "reason": _empty},
        "cases.proposal": {"match_override_reason": _empty},
        "cases.caleoldecision": {"reasons_detail": _empty},
        "cases.householdreply": {"comment": _empty},
        "cases.clockpause": {"comment": _empty},
        "committees.writtenprocedure": {"reason": _empty, "cancel_reason": _empty},
        "committees.vote": {"comment": _empty},
        "privacy.legalhold": {"reason": _empty, "lift_reason": _empty},
    },
    C.SYNTHESIS: {"cases.diagnostic": {"committee_synthesis": _empty}},
}

# Categories whose rule also deletes the case's documents from storage (every FileField of a row
# linked to the case: the art. 15 exports, and any document a later app stores).
DOCUMENT_CATEGORIES = {C.IDENTITY}


def category_label(category: str) -> str:
    return str(CATEGORY_LABELS.get(category, category))
