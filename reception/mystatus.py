"""What the household reads on its own view, in plain words: the current step, what happens next,
what is expected of it and by when, the median waiting time for its communes and typology, and its
referent desk.

Only these categories of the visibility matrix: proposals and decisions, housing needs (communes and
typology), the committee's requests. Never violence, health or the social narrative, nor the address
(a protected case's address is not even shown to the household: the code may be in other hands).
"""

from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.choices import CaleolDecisionType, CaseStatus, CommitteeOutcome
from workflows.services import current_proposal

from .models import Desk
from .stats import median_wait_for

STEPS = {
    CaseStatus.DIAGNOSTIC: (
        gettext_lazy("Votre travailleur social prépare votre dossier"),
        gettext_lazy("Il fait le point avec vous sur votre situation, vos besoins et vos souhaits de logement."),
        gettext_lazy("Votre dossier sera ensuite présenté à la commission partenariale."),
    ),
    CaseStatus.COMMITTEE: (
        gettext_lazy("Votre dossier attend la commission partenariale"),
        gettext_lazy("Les partenaires du territoire vont examiner votre demande de priorité."),
        gettext_lazy(
            "La commission décide si votre ménage est prioritaire et quel bailleur vous fera des propositions."
        ),
    ),
    CaseStatus.PROPOSAL: (
        gettext_lazy("Votre priorité est reconnue : un logement adapté est recherché"),
        gettext_lazy("Un bailleur social cherche un logement qui correspond à vos besoins."),
        gettext_lazy(
            "Quand un logement est trouvé, votre dossier passe devant la commission d'attribution du bailleur."
        ),
    ),
    CaseStatus.CALEOL: (
        gettext_lazy("Un logement vous est proposé : la commission d'attribution du bailleur doit décider"),
        gettext_lazy("La commission d'attribution (CALEOL) examine plusieurs candidats pour ce logement."),
        gettext_lazy("Si le logement vous est attribué, vous recevrez la proposition et un délai pour répondre."),
    ),
    CaseStatus.REPLY: (
        gettext_lazy("Un logement vous est attribué : vous devez répondre"),
        gettext_lazy("Le bailleur vous a envoyé une proposition de logement."),
        gettext_lazy("Si vous acceptez, vous signerez le bail avec le bailleur."),
    ),
    CaseStatus.LEASE: (
        gettext_lazy("Vous avez accepté le logement : signature du bail"),
        gettext_lazy("Le bailleur prépare votre bail."),
        gettext_lazy("Après la signature, vous recevrez les clés et votre dossier sera clos."),
    ),
    CaseStatus.CLOSED: (
        gettext_lazy("Votre dossier prioritaire est clos"),
        "",
        gettext_lazy("Pour toute question, contactez votre lieu d'accueil."),
    ),
}


@dataclass
class Expected:
    what: str
    by: date | None = None


@dataclass
class Status:
    title: str
    explanation: str
    next_step: str
    closure: str = ""
    expected: list = field(default_factory=list)
    offer: dict | None = None
    waits: list = field(default_factory=list)
    typology: str = ""
    desk: Desk | None = None


def status_for(item) -> Status:
    case = item.case
    title, explanation, next_step = STEPS[CaseStatus(case.status)]
    status = Status(title, explanation, next_step)
    if case.status == CaseStatus.CLOSED:
        status.closure = case.closure_reason_label
    expected = status.expected
    review = case.committee_reviews.order_by("-decided_at").first()
    if (
        review
        and review.outcome == CommitteeOutcome.ADJOURNED
        and case.status
        in (
            CaseStatus.DIAGNOSTIC,
            CaseStatus.COMMITTEE,
        )
    ):
        expected.append(
            Expected(
                _("La commission attend des éléments : %(items)s") % {"items": review.missing_items},
                review.adjourned_until,
            )
        )
    proposal = (
        current_proposal(case) if case.status in (CaseStatus.CALEOL, CaseStatus.REPLY, CaseStatus.LEASE) else None
    )
    if proposal is not None:
        dwelling = proposal.dwelling
        status.offer = {
            "typology": dwelling.typology,
            "commune": dwelling.commune.name,
            "address": dwelling.address,
            "rent": dwelling.rent + dwelling.charges,
            "floor": dwelling.floor,
            "lift": dwelling.has_lift,
            "deadline": proposal.reply_deadline,
            "dalo": case.is_dalo,
        }
        decision = getattr(proposal, "caleol_decision", None)
        if (
            decision
            and decision.decision == CaleolDecisionType.SUSPENSIVE_CONDITION
            and not decision.condition_met_on
            and not decision.condition_lapsed_at
        ):
            expected.append(
                Expected(
                    _("Fournir au bailleur : %(doc)s") % {"doc": decision.missing_document}, decision.condition_deadline
                )
            )
        if case.status == CaseStatus.REPLY and proposal.reply_deadline:
            expected.append(
                Expected(
                    _("Répondre à la proposition de logement (sans réponse, elle est refusée)"), proposal.reply_deadline
                )
            )
    if case.status == CaseStatus.DIAGNOSTIC and not expected:
        expected.append(
            Expected(_("Répondre aux demandes de votre travailleur social et lui remettre les justificatifs"))
        )
    diagnostic = getattr(case, "diagnostic", None)
    communes = list(diagnostic.recommended_communes.all()) if diagnostic else []
    if not communes and case.household.commune_id:
        communes = [case.household.commune]
    status.typology = diagnostic.recommended_typology if diagnostic else ""
    if case.status != CaseStatus.CLOSED:
        status.waits = median_wait_for(communes[:5], status.typology or None)
    status.desk = item.desk or (
        Desk.objects.filter(organisation_id=case.organisation_id, is_active=True).order_by("-level").first()
    )
    return status
