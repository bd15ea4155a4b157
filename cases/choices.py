"""Reference lists of the domain (see shared/domain.md). French labels are user-facing.

French legal terms kept in code:
- ``dalo``: droit au logement opposable, the enforceable right to housing (loi du 5 mars 2007).
- ``comed``: commission de médiation, the board deciding a DALO recourse is priority and urgent.
- ``caleol``: commission d'attribution des logements et d'examen de l'occupation des logements,
  the landlord's allocation committee (R441-3 CCH lists its five decisions).
- ``qpv``: quartier prioritaire de la politique de la ville.
- ``nud``: numéro unique départemental (or régional) of the SNE housing application.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    STATE = "state", _("Service de l'État (DDETS, préfecture)")
    EPCI = "epci", _("Métropole / EPCI")
    COMMUNE = "commune", _("Commune ou CCAS")
    LANDLORD = "landlord", _("Bailleur social")
    RESERVATAIRE = "reservataire", _("Réservataire (Action Logement…)")
    ASSOCIATION = "association", _("Association")
    SIAO = "siao", _("SIAO")
    DEPARTEMENT = "departement", _("Conseil départemental")


class Relationship(models.TextChoices):
    APPLICANT = "applicant", _("Demandeur")
    CO_APPLICANT = "co_applicant", _("Co-demandeur")
    SPOUSE = "spouse", _("Conjoint")
    CHILD = "child", _("Enfant")
    PARENT = "parent", _("Ascendant")
    OTHER = "other", _("Autre")


class HousingSituation(models.TextChoices):
    HOMELESS = "homeless", _("Sans abri")
    HOSTED = "hosted", _("Hébergé chez un tiers")
    SHELTER = "shelter", _("Hébergement d'urgence ou d'insertion")
    TRANSITIONAL = "transitional", _("Logement temporaire")
    PRIVATE_TENANT = "private_tenant", _("Locataire du parc privé")
    SOCIAL_TENANT = "social_tenant", _("Locataire du parc social")
    HOTEL = "hotel", _("Hôtel")
    UNFIT = "unfit", _("Logement indigne ou insalubre")
    OWNER = "owner", _("Propriétaire")
    OTHER = "other", _("Autre")


class ResidenceStatus(models.TextChoices):
    FRENCH = "french", _("Nationalité française")
    EU = "eu", _("Ressortissant de l'UE")
    PERMIT = "permit", _("Titre de séjour valide")
    IRREGULAR = "irregular", _("Séjour irrégulier")


class PriorityCriterion(models.TextChoices):
    """Article L441-1 CCH. Letter labels follow shared/domain.md and are to be checked on Légifrance."""

    DALO = "dalo", _("Reconnu prioritaire et urgent DALO")
    A_DISABILITY = "a", _("a) Handicap, ou personne à charge handicapée")
    A_BIS_ACT = "a_bis", _("a bis) Sortie d'appartement de coordination thérapeutique")
    B_BADLY_HOUSED = "b", _("b) Mal logé, ou difficultés financières ou d'insertion")
    C_SHELTER = "c", _("c) Hébergé ou logé temporairement")
    D_WORK_RESUMPTION = "d", _("d) Reprise d'activité après chômage de longue durée")
    D_BIS_UNFIT = "d_bis", _("d bis) Habitat indigne")
    E_VIOLENCE = "e", _("e) Violences au sein du couple ou menace de mariage forcé")
    E_BIS_SEXUAL_ASSAULT = "e_bis", _("e bis) Viol ou agression sexuelle au domicile ou à ses abords")
    F_PROSTITUTION_EXIT = "f", _("f) Parcours de sortie de la prostitution")
    G_TRAFFICKING = "g", _("g) Victime de traite ou de proxénétisme")
    H_OVERCROWDED = "h", _("h) Enfant mineur en logement sur-occupé ou non décent")
    I_WITHOUT_HOUSING = "i", _("i) Dépourvu de logement, y compris hébergé par des tiers")
    J_EVICTION = "j", _("j) Menacé d'expulsion sans relogement")
    K_FORMER_ASE = "k", _("k) Moins de 21 ans, anciennement pris en charge par l'ASE")


class CriterionSource(models.TextChoices):
    SOCIAL_WORKER = "social_worker", _("Travailleur social")
    SIAO = "siao", _("SIAO")
    DALO_DECISION = "dalo_decision", _("Décision DALO de la COMED")
    LANDLORD_URGENT = "landlord_urgent", _("Demande urgente d'un bailleur")


class CaseStatus(models.TextChoices):
    """Where the case stands; kept on the case row so lists filter without joining the engine."""

    DIAGNOSTIC = "diagnostic", _("Diagnostic social en cours")
    COMMITTEE = "committee", _("En attente de commission")
    PROPOSAL = "proposal", _("En attente de proposition")
    CALEOL = "caleol", _("En attente de décision CALEOL")
    REPLY = "reply", _("En attente de la réponse du ménage")
    LEASE = "lease", _("En attente de signature du bail")
    CLOSED = "closed", _("Clos")


class Urgency(models.TextChoices):
    LOW = "low", _("Faible")
    MEDIUM = "medium", _("Moyenne")
    HIGH = "high", _("Forte")
    CRITICAL = "critical", _("Très forte (mise en danger)")


class Typology(models.TextChoices):
    T1 = "T1", "T1"
    T2 = "T2", "T2"
    T3 = "T3", "T3"
    T4 = "T4", "T4"
    T5 = "T5", "T5"
    T6 = "T6", "T6"


class CommitteeOutcome(models.TextChoices):
    LABELLED = "labelled", _("Labellisé")
    ADJOURNED = "adjourned", _("Ajourné")
    NOT_KEPT = "not_kept", _("Non retenu")
    REDIRECTED = "redirected", _("Réorienté")


class Orientation(models.TextChoices):
    ORDINARY = "ordinary", _("Logement ordinaire")
    SUPPORTED = "supported", _("Logement accompagné")
    SHELTER = "shelter", _("Hébergement")


class RedirectTarget(models.TextChoices):
    SIAO = "siao", _("SIAO")
    SHELTER = "shelter", _("Hébergement")
    DALO_RECOURSE = "dalo_recourse", _("Recours DALO conseillé")


class SupportMeasure(models.TextChoices):
    NONE = "none", _("Aucun")
    ASLL = "asll", _("ASLL (accompagnement social lié au logement)")
    AVDL = "avdl", _("AVDL (accompagnement vers et dans le logement)")
    IML = "iml", _("IML (intermédiation locative)")


class FinancingTier(models.TextChoices):
    PLAI = "PLAI", "PLAI"
    PLUS = "PLUS", "PLUS"
    PLS = "PLS", "PLS"


class CaleolDecisionType(models.TextChoices):
    """Exactly the five decisions of article R441-3 CCH."""

    ALLOCATED = "allocated", _("Attribution")
    ALLOCATED_RANKED = "allocated_ranked", _("Attribution par classement (rang n)")
    SUSPENSIVE_CONDITION = "suspensive_condition", _("Attribution sous condition suspensive")
    NOT_ALLOCATED = "not_allocated", _("Non-attribution")
    INADMISSIBLE = "inadmissible", _("Irrecevabilité")


class NonAllocationReason(models.TextChoices):
    NOT_AFFORDABLE = "not_affordable", _("Logement non adapté aux ressources")
    UNSUITABLE_SIZE = "unsuitable_size", _("Taille du logement inadaptée")
    FILE_INCOMPLETE = "file_incomplete", _("Dossier incomplet")
    BETTER_RANKED = "better_ranked", _("Candidat mieux classé")
    OWNS_HOUSING = "owns_housing", _("Propriétaire d'un logement adapté")
    OTHER = "other", _("Autre motif (précisé)")


class InadmissibilityReason(models.TextChoices):
    # Tied to this dwelling: its financing tier's income ceiling (PLAI, PLUS, PLS differ).
    INCOME_OVER_CEILING = "income_over_ceiling", _("Ressources supérieures au plafond du financement de ce logement")
    # General: the household cannot be allocated any social dwelling.
    NO_VALID_APPLICATION = "no_valid_application", _("Pas de demande de logement social valide")
    IRREGULAR_RESIDENCE = "irregular_residence", _("Séjour irrégulier (pas de droit au séjour)")


class InadmissibilityScope(models.TextChoices):
    DWELLING = "dwelling", _("Propre à ce logement : la proposition prend fin, le dossier continue")
    GENERAL = "general", _("Générale : le dossier prioritaire est clos")


# An inadmissibility tied to one dwelling ends that proposal only; the priority case closes only
# when the reason bars every social dwelling (no valid application, no right of residence).
INADMISSIBILITY_SCOPE = {
    InadmissibilityReason.INCOME_OVER_CEILING: InadmissibilityScope.DWELLING,
    InadmissibilityReason.NO_VALID_APPLICATION: InadmissibilityScope.GENERAL,
    InadmissibilityReason.IRREGULAR_RESIDENCE: InadmissibilityScope.GENERAL,
}


def inadmissibility_choices() -> list:
    """The reasons grouped by scope, so the CALEOL form asks which kind of inadmissibility it is."""
    return [
        (scope.label, [(r.value, r.label) for r in InadmissibilityReason if INADMISSIBILITY_SCOPE[r] == scope])
        for scope in InadmissibilityScope
    ]


class ReplyAnswer(models.TextChoices):
    ACCEPTED = "accepted", _("Acceptée")
    REFUSED = "refused", _("Refusée")
    NO_REPLY = "no_reply", _("Sans réponse dans le délai (vaut refus)")
    # Not the household's doing: the dwelling went to a better-ranked candidate, or a suspensive
    # condition was not met in time. Not a refusal: the counter does not rise.
    LAPSED = "lapsed", _("Offre caduque (logement attribué à un autre candidat ou condition non levée)")


class RefusalMotive(models.TextChoices):
    LOCATION = "location", _("Localisation (commune ou secteur non souhaité)")
    DISTANCE = "distance", _("Éloignement du lieu de travail, d'école ou de soins")
    NEIGHBOURHOOD = "neighbourhood", _("Quartier ou sécurité (QPV)")
    SIZE = "size", _("Taille du logement")
    RENT = "rent", _("Loyer ou charges")
    FLOOR_ACCESS = "floor_access", _("Étage ou accessibilité")
    CONDITION = "condition", _("État du logement")
    AGGRESSOR_NEARBY = "aggressor_nearby", _("Trop proche de l'agresseur")
    OTHER_SOLUTION = "other_solution", _("Autre solution trouvée")
    NO_REPLY = "no_reply", _("Absence de réponse")


# Whether a refusal motive is, by default, a legitimate reason to refuse an offer made under DALO.
# A territory's committee has the last word; this only pre-fills the assessment. None: presumed
# neither way, the committee weighs it (see REFUSAL_WEIGHED_BY_COMMITTEE).
REFUSAL_LEGITIMATE_FOR_DALO = {
    RefusalMotive.LOCATION: False,
    RefusalMotive.DISTANCE: None,
    RefusalMotive.NEIGHBOURHOOD: False,
    RefusalMotive.SIZE: True,
    RefusalMotive.RENT: True,
    RefusalMotive.FLOOR_ACCESS: True,
    RefusalMotive.CONDITION: True,
    RefusalMotive.AGGRESSOR_NEARBY: True,
    RefusalMotive.OTHER_SOLUTION: True,
    RefusalMotive.NO_REPLY: False,
}

# Distance from work, school or care: an offer must take "la localisation des lieux de travail ou
# d'activité" into account (R*441-16-2 CCH), so such a refusal by a DALO household is neither
# presumed legitimate nor illegitimate: it always goes to the committee, which weighs it.
REFUSAL_WEIGHED_BY_COMMITTEE = frozenset({RefusalMotive.DISTANCE})


class ClosureReason(models.TextChoices):
    REHOUSED_SOCIAL = "rehoused_social", _("Relogé dans le parc social")
    REHOUSED_PRIVATE = "rehoused_private", _("Relogé dans le parc privé ou en IML")
    REDIRECTED = "redirected", _("Orienté vers le logement accompagné ou l'hébergement")
    NOT_KEPT = "not_kept", _("Non retenu par la commission")
    WITHDRAWN = "withdrawn", _("Désistement du ménage")
    DALO_BENEFIT_LOST = "dalo_benefit_lost", _("Perte du bénéfice DALO")
    RADIATED = "radiated", _("Radiation (non-renouvellement ou irrecevabilité)")
    INADMISSIBLE = "inadmissible", _("Irrecevabilité prononcée par la CALEOL")
    RESOLVED = "resolved", _("Situation résolue ou sans objet")
    UNREACHABLE = "unreachable", _("Ménage injoignable")
    DEATH = "death", _("Décès")
    LEFT_TERRITORY = "left_territory", _("Départ du territoire")


class OfferStatus(models.TextChoices):
    OPEN = "open", _("En cours")
    LET = "let", _("Loué (bail signé)")
    WITHDRAWN = "withdrawn", _("Retiré")


class FewerCandidatesReason(models.TextChoices):
    """Why a dwelling goes to the CALEOL with fewer than three candidates (R441-3 CCH)."""

    DALO_PREFET = "dalo_prefet", _("Ménage DALO désigné par le préfet")
    TOO_FEW = "too_few", _("Candidats en nombre insuffisant")


class NoteKind(models.TextChoices):
    """What a case note records: a contact with the household or a partner, or something else."""

    PHONE = "phone", _("Appel téléphonique")
    VISIT = "visit", _("Visite")
    EMAIL = "email", _("Courriel")
    MEETING = "meeting", _("Rendez-vous ou réunion")
    OTHER = "other", _("Autre")
