import re
from datetime import date

import pytest
from django.urls import reverse

from cases import choices
from committees import services
from committees.models import Minutes, SessionDecision, VoteChoice
from permissions.models import Membership
from tests.factories import OrganisationFactory, UserFactory

from .test_documents import SECRETS, sensitive_case, text_of

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.committees.urls")]


def login(client, user):
    # Re-read: the factory sets the password on the object without saving it (the session hash differs).
    client.force_login(type(user).objects.get(pk=user.pk))
    return client


def item_url(cw, item, name="item"):
    return reverse(f"committees:{name}", args=[cw.session.pk, item.pk])


def test_pages_for_a_member(client, cw):
    case = cw.case_at_committee()
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    login(client, cw.world.commission)
    page = client.get(reverse("committees:list"))
    assert page.status_code == 200 and cw.committee.name in page.content.decode()
    assert client.get(reverse("committees:detail", args=[cw.committee.pk])).status_code == 200
    page = client.get(reverse("committees:session", args=[cw.session.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert case.reference in html and "Quorum" in html
    assert "Décompte des voix" not in html  # the tally is for the chair and the secretary
    assert "Inscrire ce dossier" not in html  # the agenda is the secretary's
    assert client.get(item_url(cw, item)).status_code == 200


def test_outsiders_get_404_everywhere(client, cw):
    case = cw.case_at_committee()
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    cw.open_with(cw.chair, cw.secretary, cw.member)
    cw.vote_all(item, VoteChoice.NOT_KEPT, [cw.chair, cw.secretary, cw.member])
    services.decision_record(actor=cw.chair_user, item=item, values={"outcome": "not_kept", "reason": "x"})
    services.session_close(actor=cw.secretary_user, session=cw.session)
    s, i = cw.session.pk, item.pk
    gets = [
        reverse("committees:detail", args=[cw.committee.pk]),
        reverse("committees:session", args=[s]),
        reverse("committees:minutes", args=[s]),
        reverse("committees:item", args=[s, i]),
        reverse("committees:letter", args=[s, i]),
    ]
    posts = [
        reverse(f"committees:{n}", args=[s])
        for n in ("session_open", "session_close", "attendance", "agenda_add", "agenda_fill")
    ] + [
        reverse(f"committees:{n}", args=[s, i])
        for n in ("item_remove", "item_move", "item_vote", "item_recusal", "item_decide", "item_amend")
    ]
    # The referent social worker sees the case, a landlord agent is a professional elsewhere: not seated.
    for outsider in (cw.world.social_worker, cw.world.landlord_agent, UserFactory(username="x")):
        login(client, outsider)
        for url in gets:
            assert client.get(url).status_code == 404, (outsider, url)
        for url in posts:
            assert client.post(url, {"choice": "labelled"}).status_code == 404, (outsider, url)
    assert client.get(reverse("committees:list")).status_code == 200
    client.logout()
    assert client.get(gets[0]).status_code == 302  # to the login page


def test_member_of_another_territory_cannot_open_a_case_outside_the_policy(client, cw):
    """Seated but the case is outside the member's case scope (membership switched off): 404."""
    case = cw.case_at_committee()
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    membership = cw.landlord_rep.membership
    membership.is_active = False
    membership.save()
    login(client, cw.landlord_rep_user)
    assert client.get(item_url(cw, item)).status_code == 404


def test_synthesis_sheet_shows_only_commission_categories(client, cw):
    case = sensitive_case(cw)
    case.household.members.create(
        first_name="Enfant", last_name="Secretnom", relationship="child", birth_date=date(2015, 1, 1)
    )
    item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    # The chair is also a social worker in another organisation: that role must not widen the sheet.
    Membership.objects.create(user=cw.chair_user, organisation=OrganisationFactory(), role="social_worker")
    for user in (cw.world.commission, cw.chair_user):
        login(client, user)
        html = client.get(item_url(cw, item)).content.decode()
        assert "Besoin d&#x27;un T3 éloigné." in html  # the committee synthesis
        assert "Secretnom" in html  # identity is visible to commission roles
        assert "<h3>Ressources</h3>" in html and re.search(r"1\s200,00\s€", html)
        for secret in SECRETS.values():
            assert secret not in html, secret
        assert not re.search(r"SECRET[A-Z]", html)  # every hidden field's marker


def test_secretary_builds_agenda_and_chair_runs_the_session(client, cw):
    first, second = cw.case_at_committee(), cw.case_at_committee()
    login(client, cw.secretary_user)
    page = client.post(reverse("committees:agenda_fill", args=[cw.session.pk]), follow=True)
    assert "2 dossier(s) ajouté(s)" in page.content.decode()
    items = list(cw.session.items.all())
    client.post(item_url(cw, items[1], "item_move"), {"direction": "up"})
    items = list(cw.session.items.all())
    assert [i.case_id for i in items] == [second.pk, first.pk]
    bad = client.post(reverse("committees:agenda_add", args=[cw.session.pk]), {"case": first.pk})
    assert bad.status_code == 400 and "Sélectionnez un choix valide" in bad.content.decode()

    # Members vote ahead.
    for user in (cw.chair_user, cw.secretary_user, cw.world.commission):
        login(client, user)
        response = client.post(item_url(cw, items[0], "item_vote"), {"choice": "labelled", "comment": "OK"})
        assert response.status_code == 302
    login(client, cw.world.commission)
    bad = client.post(item_url(cw, items[0], "item_vote"), {"choice": "loss_confirmed"})
    assert bad.status_code == 400 and "errorlist" in bad.content.decode()
    login(client, cw.chair_user)
    html = client.get(item_url(cw, items[0])).content.decode()
    assert "Décompte des voix" in html and "3 voix comptées" in html

    # The landlord's representative steps aside.
    login(client, cw.landlord_rep_user)
    response = client.post(
        item_url(cw, items[0], "item_recusal"), {"member": cw.landlord_rep.pk, "reason": "Bailleur concerné"}
    )
    assert response.status_code == 302

    # The session opens; quorum not reached yet: the decision is refused with a clear message.
    login(client, cw.chair_user)
    client.post(reverse("committees:session_open", args=[cw.session.pk]))
    client.post(reverse("committees:attendance", args=[cw.session.pk]), {"present": [cw.chair.pk, cw.secretary.pk]})
    decide = {
        "outcome": "labelled",
        "orientation": "ordinary",
        "designated_landlord": cw.world.landlord.pk,
        "support_measure": "asll",
    }
    response = client.post(item_url(cw, items[0], "item_decide"), decide)
    assert response.status_code == 400 and "Quorum non atteint" in response.content.decode()
    assert not SessionDecision.objects.exists()

    client.post(
        reverse("committees:attendance", args=[cw.session.pk]),
        {"present": [cw.chair.pk, cw.secretary.pk, cw.member.pk, cw.landlord_rep.pk]},
    )
    missing = client.post(item_url(cw, items[0], "item_decide"), {**decide, "designated_landlord": ""})
    assert missing.status_code == 400 and "Désignez le bailleur" in missing.content.decode()
    response = client.post(item_url(cw, items[0], "item_decide"), decide)
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.status == choices.CaseStatus.PROPOSAL

    # A second recording (stale page) gets a plain message, nothing more is saved.
    login(client, cw.secretary_user)
    again = client.post(item_url(cw, items[0], "item_decide"), decide)
    assert again.status_code == 409 and "déjà statué" in again.content.decode()
    assert SessionDecision.objects.count() == 1

    letter = client.get(item_url(cw, items[0], "letter"))
    assert letter["Content-Type"] == "application/pdf"
    assert "recours gracieux" in " ".join(text_of(letter.content).split())

    response = client.post(reverse("committees:session_close", args=[cw.session.pk]), follow=True)
    assert "Séance close" in response.content.decode()
    minutes = client.get(reverse("committees:minutes", args=[cw.session.pk]))
    assert minutes.status_code == 200 and second.reference in text_of(minutes.content)
    assert Minutes.objects.count() == 1

    # After closing: no vote, an amendment needs a reason.
    login(client, cw.chair_user)
    response = client.post(item_url(cw, items[0], "item_amend"), {"support_measure": "avdl", "amendment_reason": ""})
    assert response.status_code == 400 and "Ce champ est obligatoire" in response.content.decode()
    response = client.post(
        item_url(cw, items[0], "item_amend"), {"support_measure": "avdl", "amendment_reason": "Erreur de saisie"}
    )
    assert response.status_code == 400 and "Indiquez l&#x27;orientation du ménage." in response.content.decode()
    response = client.post(
        item_url(cw, items[0], "item_amend"),
        {"orientation": "ordinary", "support_measure": "avdl", "amendment_reason": "Erreur de saisie"},
    )
    assert response.status_code == 302
    assert Minutes.objects.count() == 2
    html = client.get(item_url(cw, items[0])).content.decode()
    assert "Erreur de saisie" in html and "Enregistrer mon avis" not in html


def test_session_form_errors_next_to_fields(client, cw):
    login(client, cw.secretary_user)
    url = reverse("committees:detail", args=[cw.committee.pk])
    response = client.post(url, {"starts_at": "pas une date", "place": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Saisissez une date et une heure valides" in html
    response = client.post(url, {"starts_at": "2026-11-03T09:30", "place": ""})
    assert "Indiquez un lieu ou un lien de visioconférence" in response.content.decode()
    response = client.post(url, {"starts_at": "2026-11-03T09:30", "place": "Mairie de Toulon"})
    assert response.status_code == 302
    login(client, cw.world.commission)
    assert "Planifier la séance" not in client.get(url).content.decode()
    assert client.post(url, {"starts_at": "2026-11-03T09:30", "place": "Mairie"}).status_code == 404


# A member sees the agenda; the chair also the tallies and the attendance form; the secretary also the
# form to add cases (the cases in their scope).
# member and chair: +1 since the menu shows "Pilotage" from the user's memberships (steering.context_processors),
# which these pages did not read otherwise.
@pytest.mark.parametrize(("who", "queries"), [("member", 11), ("chair", 13), ("secretary", 14)])
def test_agenda_costs_the_same_queries_whatever_its_length(client, cw, who, queries, django_assert_max_num_queries):
    """Votes, tallies, recusals and decisions are read once for the whole agenda, never per item."""
    user = {"member": cw.world.commission, "secretary": cw.secretary_user, "chair": cw.chair_user}[who]
    url = reverse("committees:session", args=[cw.session.pk])
    cw.open_with(cw.chair, cw.secretary, cw.member)  # the attendance form and the tally are on the page

    def add_item():
        item = services.agenda_add(actor=cw.secretary_user, session=cw.session, case=cw.case_at_committee())
        cw.vote_all(item, VoteChoice.LABELLED)
        services.recusal_record(actor=cw.landlord_rep_user, item=item, member=cw.landlord_rep, reason="Bailleur")
        return item

    add_item()
    login(client, user)
    with django_assert_max_num_queries(queries) as one:
        assert client.get(url).status_code == 200
    for _ in range(3):
        add_item()
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.get(url)
    assert page.status_code == 200 and page.content.decode().count('<tr id="item-') == 4
