"""Protected cases: the communes to avoid (and the recommended ones) stay hidden (issue 15).

On a protected case the lists can tell where the aggressor lives. Landlords and commission members
never see them, on any surface: case page, timeline, API, exports, the committee's synthesis sheet,
notifications. The match check against a dwelling says "commune non adaptée" and nothing more. The
referent social worker still sees them (so every check below can fail).
"""

import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from cases.matching import check
from committees.synthesis import synthesis
from notifications.models import Notification
from permissions.presenters import VisibleCase
from permissions.roles import Role
from tests.api.conftest import Partner
from tests.factories import DwellingFactory, UserFactory, commune, member
from tests.workflows import steps
from workflows import services

pytestmark = pytest.mark.django_db

HYERES, LA_GARDE = "83069", "83062"
# Names and codes that must never reach a landlord or a commission member on a protected case.
SECRETS = ("Hyères", "Hyeres", "La Garde", HYERES, LA_GARDE)


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


@pytest.fixture(autouse=True)
def base_template_links(settings):
    settings.ROOT_URLCONF = "tests.security.stub_urls"


def diagnosed(world, *, is_protected=True):
    case = world.flag(is_protected=is_protected)
    return services.diagnostic_complete(
        actor=world.social_worker,
        case=case,
        values=dict(steps.DIAGNOSTIC),
        areas_to_avoid=[commune(HYERES)],
        recommended_communes=[commune(LA_GARDE)],
    )


def login(client, user):
    client.force_login(type(user).objects.get(pk=user.pk))


def page_and_timeline(client, user, case) -> str:
    login(client, user)
    page = client.get(reverse("cases:detail", args=[case.pk]))
    timeline = client.get(reverse("audit:timeline", args=[case.pk]))
    assert page.status_code == timeline.status_code == 200
    return page.content.decode() + timeline.content.decode()


def test_case_page_and_timeline_hide_the_lists_from_landlord_and_commission(client, world):
    case = diagnosed(world)
    # At the committee step: the commission member reads the case.
    assert not leaks(page_and_timeline(client, world.commission, case))
    case = steps.propose(world, steps.label(world, case))
    for user in (world.landlord_agent, world.commission):
        html = page_and_timeline(client, user, case)
        assert not leaks(html), (user.username, leaks(html))
        assert "Communes à éviter" not in html
    referent = page_and_timeline(client, world.social_worker, case)
    assert "Hyères" in referent and "La Garde" in referent
    supervisor = page_and_timeline(client, world.supervisor, case)
    assert "Hyères" in supervisor


def test_an_unprotected_case_still_shows_the_landlord_the_communes_not_suitable(client, world):
    case = steps.propose(world, steps.label(world, diagnosed(world, is_protected=False)))
    assert "Hyères" in page_and_timeline(client, world.landlord_agent, case)


def test_api_detail_and_presenter_hide_the_lists(world):
    case = steps.propose(world, steps.label(world, diagnosed(world)))
    partner = Partner(world.landlord)
    response = partner.get(f"cases/{case.pk}/")
    assert response.status_code == 200
    needs = response.json()["needs"]
    assert "areas_to_avoid" not in needs and "recommended_communes" not in needs
    assert not leaks(response.content.decode())
    # The presenter every export and API list is built on.
    for user in (world.landlord_agent, world.commission):
        assert not leaks(json.dumps(VisibleCase(user, case).as_dict(), default=str, ensure_ascii=False))
    referent = json.dumps(VisibleCase(world.social_worker, case).as_dict(), default=str, ensure_ascii=False)
    assert "Hyères" in referent


def test_exports_are_not_served_to_landlord_or_commission(client, world):
    case = steps.propose(world, steps.label(world, diagnosed(world)))
    for user in (world.landlord_agent, world.commission):
        login(client, user)
        for name in ("audit:export_csv", "audit:export_pdf"):
            response = client.get(reverse(name, args=[case.pk]))
            assert response.status_code == 404
            assert not leaks(response.content.decode(errors="replace"))


def test_synthesis_sheet_hides_the_lists_from_commission_members(client, world):
    from committees import services as committee_services
    from committees.models import Committee, CommitteeMember

    case = diagnosed(world)
    sheet = json.dumps(synthesis(case, world.commission), default=str, ensure_ascii=False)
    assert not leaks(sheet)

    # The same sheet on the committee's agenda item page.
    admin = UserFactory(username="admin-protege", is_superuser=True, is_staff=True)
    committee = Committee.objects.create(name="Commission (protégé)", quorum_count=1)
    committee.communes.set([commune()])
    secretary = UserFactory(username="secretaire-protege")
    for user, function in (
        (world.commission, CommitteeMember.Function.MEMBER),
        (secretary, CommitteeMember.Function.SECRETARY),
    ):
        committee_services.committee_member_add(
            actor=admin, committee=committee, user=user, organisation=world.state, function=function
        )
    session = committee_services.session_create(
        actor=secretary, committee=committee, starts_at=datetime(2026, 12, 7, 9, 30, tzinfo=UTC), place="Salle"
    )
    item = committee_services.agenda_add(actor=secretary, session=session, case=case)
    login(client, world.commission)
    response = client.get(reverse("committees:item", args=[session.pk, item.pk]))
    assert response.status_code == 200
    assert not leaks(response.content.decode())


def test_synthesis_sheet_check_can_fail(world):
    """Unprotected, the sheet does list the communes: the protected check above is not vacuous."""
    case = diagnosed(world, is_protected=False)
    assert "Hyères" in json.dumps(synthesis(case, world.commission), default=str, ensure_ascii=False)


def test_match_check_says_commune_not_suitable_and_nothing_more(world):
    case = steps.label(world, diagnosed(world))
    in_hyeres = DwellingFactory(landlord=world.landlord, commune=commune(HYERES))
    warnings = [w for w in check(case, in_hyeres) if w.code == "commune"]
    assert [w.message for w in warnings] == ["Commune non adaptée pour ce ménage."]
    partner = Partner(world.landlord)
    response = partner.get(f"cases/{case.pk}/match/", dwelling=in_hyeres.pk)
    assert response.status_code == 200
    found = [w for w in response.json()["warnings"] if w["code"] == "commune"]
    assert found == [{"code": "commune", "message": "Commune non adaptée pour ce ménage."}]
    # Elsewhere, no commune warning at all.
    assert not [w for w in check(case, world.dwelling) if w.code == "commune"]


def test_notifications_to_landlord_and_commission_name_no_commune_of_the_lists(world):
    reservataire = member(Role.RESERVATAIRE_AGENT, world.reservataire, username="reserv-protege")
    case = steps.propose(world, steps.label(world, diagnosed(world)))
    steps.refuse(world, steps.allocate(world, case))
    partners = [world.landlord_agent, world.commission, reservataire]
    sent = Notification.objects.filter(recipient__in=partners, case=case)
    assert sent.exists()
    for notification in sent:
        assert not leaks(json.dumps(notification.context, default=str, ensure_ascii=False)), notification.template
