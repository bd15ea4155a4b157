from io import BytesIO

import pytest
from pypdf import PdfReader

from cases import choices
from committees import services
from committees.documents import decision_letter_pdf
from committees.models import Minutes, VoteChoice
from permissions.roles import Role
from workflows.services import diagnostic_complete

from .conftest import LABELLED

pytestmark = pytest.mark.django_db

SECRETS = {
    "address": "17 impasse SECRETADRESSE",
    "phone": "0611223344",
    "email": "secret.contact@example.org",
    "social_narrative": "SECRETNARRATIF violences passées",
    "health_autonomy": "SECRETSANTE diabète",
    "violence_facts": "SECRETVIOLENCE ordonnance de protection",
    "family_situation": "SECRETFAMILLE séparation",
    "housing_history": "SECRETPARCOURS",
    "debts_description": "SECRETDETTES",
    "evidence_note": "SECRETJUSTIFICATIF",
}


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def sensitive_case(cw, **kwargs):
    world = cw.world
    household = world.household(
        applicant_last_name="Secretnom",
        applicant_first_name="Ondine",
        address=SECRETS["address"],
        phone=SECRETS["phone"],
        email=SECRETS["email"],
    )
    case = world.flag(
        household,
        criteria=[{"code": "e", "source": "social_worker", "evidence_note": SECRETS["evidence_note"]}],
        is_protected=True,
        **kwargs,
    )
    values = {
        key: SECRETS[key]
        for key in ("social_narrative", "health_autonomy", "violence_facts", "family_situation", "housing_history")
    }
    values |= {"debts_description": SECRETS["debts_description"], "committee_synthesis": "Besoin d'un T3 éloigné."}
    return diagnostic_complete(actor=world.social_worker, case=case, values={"monthly_resources": 1200, **values})


def decided_session(cw, outcome_values):
    case = sensitive_case(cw)
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    services.recusal_record(actor=cw.secretary_user, item=item, member=cw.landlord_rep, reason="Bailleur concerné")
    cw.open_with(cw.chair, cw.secretary, cw.member, cw.landlord_rep)
    choice = outcome_values["outcome"]
    cw.vote_all(item, choice, [cw.chair, cw.secretary, cw.member])
    decision = services.decision_record(actor=cw.chair_user, item=item, values=outcome_values)
    services.session_close(actor=cw.secretary_user, session=cw.session)
    return case, decision


def test_minutes_show_the_session_and_no_hidden_data(cw):
    values = {**LABELLED, "designated_landlord": cw.world.landlord, "target_reservataire": cw.world.reservataire}
    case, decision = decided_session(cw, values)
    minutes = Minutes.objects.get(session=cw.session)
    text = text_of(bytes(minutes.pdf))
    for expected in (
        case.reference,
        "Labellisé",
        "Bailleur Un (test)",
        "Paule Présidente",
        "Bailleur concerné",
        "Labellisé : 3",
        "3 voix comptées",
        "1 déport(s)",
        "Quorum",
    ):
        assert expected in text, expected
    for secret in [*SECRETS.values(), "Secretnom", "Ondine", case.household.nud]:
        assert secret not in text, secret
    assert "SECRET" not in text.upper()


def test_minutes_list_undecided_cases_and_amendments(cw):
    values = {"outcome": choices.CommitteeOutcome.NOT_KEPT, "reason": "Ressources suffisantes pour le parc privé"}
    case, decision = decided_session(cw, values)
    services.decision_amend(
        actor=cw.chair_user,
        decision=decision,
        values={"reason": "Ressources au-dessus des plafonds"},
        reason="Coquille",
    )
    text = text_of(bytes(Minutes.objects.filter(session=cw.session).first().pdf))
    assert "Version 2" in text
    assert "Ressources au-dessus des plafonds" in text
    assert "Coquille" in text


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {**LABELLED, "designated_landlord": None},
            ["prioritaire", "Bailleur Un (test)", "au moins 10 jours", "ASLL"],
        ),
        (
            {"outcome": "adjourned", "missing_items": "Avis d'imposition", "adjourned_until": "2026-12-01"},
            ["Avis d'imposition", "1 décembre 2026"],
        ),
        ({"outcome": "not_kept", "reason": "Pas de critère"}, ["n'a pas retenu", "Pas de critère"]),
        ({"outcome": "redirected", "redirected_to": "dalo_recourse"}, ["recours DALO", "COMED"]),
    ],
)
def test_decision_letter_plain_french_with_appeal_and_no_address_for_commission(cw, values, expected):
    from datetime import date

    if values.get("adjourned_until"):
        values = {**values, "adjourned_until": date(2026, 12, 1)}
    if "designated_landlord" in values:
        values = {**values, "designated_landlord": cw.world.landlord}
    case, decision = decided_session(cw, values)
    text = " ".join(text_of(decision_letter_pdf(decision, {Role.COMMISSION_CHAIR})).split())
    for phrase in [
        *expected,
        "Ondine Secretnom",
        "recours gracieux",
        "tribunal administratif",
        "2 mois",
        case.reference,
        "Ce qui a été décidé",
        "Et maintenant ?",
    ]:
        assert phrase in text, phrase
    for secret in [SECRETS["address"], SECRETS["social_narrative"], SECRETS["health_autonomy"]]:
        assert secret not in text


def test_letter_shows_address_only_to_roles_that_may_see_it(cw):
    case = cw.case_at_committee()
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    cw.open_with(cw.chair, cw.secretary, cw.member)
    cw.vote_all(item, VoteChoice.NOT_KEPT, [cw.chair, cw.secretary, cw.member])
    decision = services.decision_record(
        actor=cw.chair_user, item=item, values={"outcome": "not_kept", "reason": "Pas de critère"}
    )
    address = case.household.address
    assert address in text_of(decision_letter_pdf(decision, {Role.SOCIAL_WORKER}))
    assert address not in text_of(decision_letter_pdf(decision, {Role.COMMISSION_MEMBER}))
