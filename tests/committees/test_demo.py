from io import StringIO

import pytest
from django.core.management import call_command
from django.http import HttpRequest  # django-axes checks the login against its request

from cases import choices
from committees.models import Committee
from permissions.policy import Action, policy
from tests.workflows import steps

pytestmark = pytest.mark.django_db


def test_demo_committee_with_a_planned_session_and_agenda(world):
    waiting = steps.diagnose(world, world.flag())
    out = StringIO()
    call_command("load_committee_demo", stdout=out)
    call_command("load_committee_demo", stdout=out)  # twice: nothing duplicated
    committee = Committee.objects.get()
    assert committee.members.count() == 5
    session = committee.sessions.get()
    assert session.status == "planned"
    assert list(session.items.values_list("case_id", flat=True)) == [waiting.pk]
    chair = committee.members.get(function="chair").user
    assert policy.can(chair, Action.VIEW, waiting) and chair.has_perm("cases.review_in_committee", waiting)
    assert "secretariat.ddets" in out.getvalue()


def test_done_when_on_the_demo_data(client):
    """The issue's "done when": on the demo data a secretary prepares a session, members vote ahead,
    the chair runs it and the secretary closes it; minutes and letters come out as PDF; each decided
    case has moved on in its flow."""
    from django.urls import reverse

    from cases.models import Organisation
    from committees import services
    from committees.documents import decision_letter_pdf
    from committees.models import Minutes
    from committees.synthesis import committee_roles

    call_command("load_demo", stdout=StringIO())
    call_command("load_committee_demo", stdout=StringIO())
    committee = Committee.objects.get()
    session = committee.sessions.get()
    items = list(session.items.select_related("case"))
    assert len(items) >= 3 and any(item.is_dalo_loss for item in items)
    deadlines = [i.case.dalo_offer_deadline for i in items if i.case.dalo_offer_deadline]
    assert deadlines == sorted(deadlines) and all(i.case.dalo_offer_deadline for i in items[: len(deadlines)])
    seats = {s.user.username: s for s in committee.members.select_related("user")}
    secretary, chair = seats["secretariat.ddets"].user, seats["presidence.tpm"].user
    landlord = Organisation.objects.get(name="Habitat Exemple Méditerranée (bailleur fictif)")

    for item in items:  # members vote ahead
        for seat in seats.values():
            services.vote_cast(actor=seat.user, item=item, choice="loss_rejected" if item.is_dalo_loss else "labelled")
    services.recusal_record(
        actor=secretary, item=items[0], member=seats["commission.bailleur"], reason="Bailleur concerné"
    )
    services.session_open(actor=chair, session=session)
    services.attendance_set(actor=secretary, session=session, present_member_ids=[s.pk for s in seats.values()])
    for item in items:
        values = (
            {"dalo_benefit_lost": False, "reason": "Refus motivé par l'état du logement"}
            if item.is_dalo_loss
            else {"outcome": "labelled", "orientation": "ordinary", "designated_landlord": landlord}
        )
        services.decision_record(actor=chair, item=item, values=values)
    services.session_close(actor=secretary, session=session)

    assert Minutes.objects.get(session=session).pdf
    for item in items:
        item.case.refresh_from_db()
        assert item.case.status == choices.CaseStatus.PROPOSAL
        assert decision_letter_pdf(item.decision, committee_roles(chair)).startswith(b"%PDF")
    assert client.login(request=HttpRequest(), username="presidence.tpm", password="demo-ppgdid-2026")
    assert client.get(reverse("committees:session", args=[session.pk])).status_code == 200
    assert client.get(reverse("committees:minutes", args=[session.pk]))["Content-Type"] == "application/pdf"
