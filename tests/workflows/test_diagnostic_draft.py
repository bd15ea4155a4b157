"""The diagnostic in sections: saved as a draft (history, step still open), reopened, completed with
every required field; the resources pre-filled from the flagging; communes limited to the territory."""

from decimal import Decimal

import pytest
from django.utils.html import escape

from cases import choices
from tests.factories import NANTES, TOULON
from workflows import services

from . import http

pytestmark = pytest.mark.django_db


def draft(client, world, case, data):
    return http.post_step(client, world.social_worker, case, "diagnostic", {**data, "action": "draft"})



def test_a_draft_is_saved_with_history_and_shown_again_without_completing_the_step(world, client):
    case = world.flag()
    response = draft(
        client,
        world,
        case,
        {"family_situation": "Mère seule, deux enfants.", "monthly_resources": "1 320,50", "urgency": ""},
    )
    assert response.status_code == 302 and response.url == http.step_url(case, "diagnostic")

    case.refresh_from_db()
    diagnostic = case.diagnostic
    assert diagnostic.completed_at is None
    assert case.status == choices.CaseStatus.DIAGNOSTIC
    assert services.active_task(case, "diagnostic") is not None
    assert diagnostic.family_situation == "Mère seule, deux enfants."
    assert diagnostic.monthly_resources == Decimal("1320.50")
    assert diagnostic.urgency == choices.Urgency.MEDIUM  # left empty in the draft: the recorded value stays
    row = diagnostic.history.first()
    assert (row.history_change_reason, row.history_user) == (services.DRAFT_REASON, world.social_worker)
    assert services.active_task(case, "diagnostic").owner == world.social_worker  # saving took the step

    page = client.get(http.step_url(case, "diagnostic")).content.decode()
    assert "Brouillon enregistré le" in page
    assert escape("Mère seule, deux enfants.") in page
    assert 'value="1\u00a0320,50"' in page  # the amount shown back the French way
    for title in ("Le ménage", "Les ressources", "Le logement", "L&#x27;accompagnement", "La préconisation"):
        assert f"<legend>{title}</legend>" in page


def test_completing_checks_every_required_field_and_keeps_the_draft(world, client):
    case = world.flag()
    draft(client, world, case, {"family_situation": "Couple hébergé."})
    response = http.post_step(
        client, world.social_worker, case, "diagnostic", {"family_situation": "Couple hébergé.", "action": "complete"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ce champ est obligatoire." in page
    case.refresh_from_db()
    assert case.diagnostic.completed_at is None and case.diagnostic.family_situation == "Couple hébergé."

    http.assert_done(http.diagnose(client, world, case, monthly_resources="1 875,00"), case)
    case.refresh_from_db()
    assert case.diagnostic.completed_at is not None
    assert case.diagnostic.monthly_resources == Decimal("1875.00")
    assert case.status == choices.CaseStatus.COMMITTEE


def test_required_fields_are_marked(world, client):
    case = world.flag()
    client.force_login(world.social_worker)
    page = client.get(http.step_url(case, "diagnostic")).content.decode()
    assert 'name="family_situation"' in page
    assert 'aria-required="true"' in page and " required" in page
    assert 'class="required"' in page  # the visible mark (a * after the label)
    assert "Les champs suivis d'un astérisque (*) sont obligatoires." in page


def test_resources_are_prefilled_from_the_flagging_until_the_worker_writes_theirs(world, client):
    household = world.household(monthly_wages=Decimal("1100"), monthly_family_benefits=Decimal("220.5"))
    case = world.flag(household)
    client.force_login(world.social_worker)
    page = client.get(http.step_url(case, "diagnostic")).content.decode()
    assert 'name="monthly_resources" value="1\u00a0320,50"' in page
    assert "Ressources déclarées au signalement" in page and "1\u00a0100,00\u00a0€" in page

    draft(client, world, case, {"monthly_resources": "900"})
    page = client.get(http.step_url(case, "diagnostic")).content.decode()
    assert 'name="monthly_resources" value="900,00"' in page


def test_a_commune_outside_the_territory_is_refused_in_french(world, client):
    case = world.flag()
    response = draft(client, world, case, {"recommended_communes": [NANTES]})
    assert response.status_code == 200
    assert "pas dans votre territoire" in response.content.decode()
    assert not case.diagnostic.recommended_communes.exists()

    draft(client, world, case, {"recommended_communes": [TOULON]})
    assert list(case.diagnostic.recommended_communes.values_list("pk", flat=True)) == [TOULON]


def test_a_bad_amount_gets_a_french_message_and_nothing_is_saved(world, client):
    case = world.flag()
    response = draft(client, world, case, {"family_situation": "X", "monthly_resources": "mille euros"})
    assert response.status_code == 200
    assert "Saisissez un montant en euros, par exemple 1 320,00." in response.content.decode()
    case.refresh_from_db()
    assert case.diagnostic.family_situation == ""


def test_only_the_steps_holder_saves_a_draft(world, client):
    case = world.flag()
    draft(client, world, case, {"family_situation": "Premier brouillon."})
    response = http.post_step(
        client, world.colleague, case, "diagnostic", {"family_situation": "Autre.", "action": "draft"}
    )
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.diagnostic.family_situation == "Premier brouillon."
