"""The flagging and household forms: members added and removed freely (with and without JavaScript),
communes limited to the user's territory, amounts and dates typed the French way."""

from decimal import Decimal

import pytest
from django.urls import reverse

from cases.models import Case, HouseholdMember
from tests.factories import NANTES, TOULON

from .test_views import creation_data, edit_data

pytestmark = pytest.mark.django_db


def test_add_member_without_javascript_posts_back_one_more_row_and_saves_nothing(world, client):
    client.force_login(world.social_worker)
    data = creation_data(**{"dossier-organisation": world.ccas.pk, "ajouter_membre": "1"})
    response = client.post(reverse("cases:create"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="membres-TOTAL_FORMS" value="3"' in page
    assert 'name="membres-2-first_name"' in page and 'value="Lina"' in page  # what was typed is kept
    assert "errorlist" not in page  # no error shown for a row just added
    assert not Case.objects.exists()


def test_members_added_and_removed_on_flagging(world, client):
    client.force_login(world.social_worker)
    data = creation_data(
        **{
            "dossier-organisation": world.ccas.pk,
            "membres-TOTAL_FORMS": "3",
            "membres-1-first_name": "Noé",
            "membres-1-last_name": "Fictif",
            "membres-1-relationship": "child",
            "membres-1-birth_date": "01/12/2020",  # typed the French way
            "membres-1-DELETE": "on",  # added, then removed before saving
            "membres-2-first_name": "Sam",
            "membres-2-last_name": "Fictif",
            "membres-2-relationship": "child",
            "membres-2-birth_date": "2021-02-03",
            "menage-monthly_wages": "1 320,00",
        }
    )
    response = client.post(reverse("cases:create"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    case = Case.objects.get(household__nud="08326011234500042B")
    assert sorted(m.first_name for m in case.household.members.all()) == ["Lina", "Sam"]
    assert case.household.monthly_wages == Decimal("1320.00")


def test_members_added_and_removed_on_the_household_page_with_history(world, client):
    case = world.flag()
    lina = HouseholdMember.objects.create(
        household=case.household, first_name="Lina", last_name="Essai", relationship="child", birth_date="2019-06-01"
    )
    client.force_login(world.social_worker)
    url = reverse("cases:household_edit", args=[case.pk])
    data = edit_data(
        case,
        **{
            "membres-TOTAL_FORMS": "2",
            "membres-INITIAL_FORMS": "1",
            "membres-0-id": lina.pk,
            "membres-0-household": case.household.pk,
            "membres-0-first_name": "Lina",
            "membres-0-last_name": "Essai",
            "membres-0-relationship": "child",
            "membres-0-birth_date": "01/06/2019",
            "membres-0-DELETE": "on",
            "membres-1-first_name": "Noé",
            "membres-1-last_name": "Essai",
            "membres-1-relationship": "child",
            "membres-1-birth_date": "03/02/2021",
        },
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert [m.first_name for m in case.household.members.all()] == ["Noé"]
    rows = HouseholdMember.history.filter(household_id=case.household.pk)
    kinds = set(rows.values_list("first_name", "history_type"))
    assert {("Lina", "-"), ("Noé", "+")} <= kinds
    page = client.get(url).content.decode()
    assert "Retirer ce membre du ménage" in page and "js/formset.js" in page and "<template data-formset-empty>" in page


def test_commune_outside_the_territory_is_refused_in_french(world, client):
    client.force_login(world.social_worker)
    page = client.get(reverse("cases:create")).content.decode()
    assert f'value="{TOULON}"' in page and f'value="{NANTES}"' not in page  # the picker offers the territory
    assert 'data-combobox="commune"' in page and "js/combobox.js" in page
    response = client.post(
        reverse("cases:create"), creation_data(**{"dossier-organisation": world.ccas.pk, "menage-commune": NANTES})
    )
    assert response.status_code == 200
    assert "Cette commune n&#x27;est pas dans votre territoire" in response.content.decode()
    assert not Case.objects.exists()


def test_editing_keeps_a_recorded_commune_outside_the_territory(world, client):
    case = world.flag(world.household(commune_id=NANTES))
    client.force_login(world.social_worker)
    url = reverse("cases:household_edit", args=[case.pk])
    response = client.post(url, edit_data(case, **{"menage-commune": NANTES}))
    assert response.status_code == 302
