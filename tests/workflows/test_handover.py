"""Issue 18 part 3: releasing a step, a supervisor's reassignment, a delegate standing in during an
absence (access before, during and after the period), all recorded with their reason."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from permissions import services as access_services
from permissions.queues import task_queue_for
from permissions.roles import Role
from tests.factories import NANTES, member
from workflows import queries, services
from workflows.models import StepHandover

from . import steps

pytestmark = pytest.mark.django_db


def reason_of(handover) -> str:
    return handover.history.latest().history_change_reason


def test_the_holder_releases_a_step_with_a_reason(world, client):
    case = world.flag()
    services.task_claim(actor=world.social_worker, case=case, node_name="diagnostic")
    with pytest.raises(ValidationError):
        services.task_release(actor=world.social_worker, case=case, node_name="diagnostic", reason="")
    with pytest.raises(PermissionDenied):
        services.task_release(actor=world.colleague, case=case, node_name="diagnostic", reason="Je ne peux pas")

    client.force_login(world.social_worker)
    url = reverse("workflows:release", args=[case.pk, "diagnostic"])
    assert url in client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    response = client.post(url, {"reason": "Arrêt maladie prolongé"})
    assert response.status_code == 302
    task = queries.active_task(case, "diagnostic")
    assert (task.owner_id, task.status) == (None, "NEW")
    handover = StepHandover.objects.get(case=case)
    assert (handover.kind, handover.from_user, handover.to_user, handover.reason) == (
        "released",
        world.social_worker,
        None,
        "Arrêt maladie prolongé",
    )
    assert handover.history.latest().history_user == world.social_worker
    # Nobody holds it any more: the release page is gone, and the colleague may take it.
    assert client.get(url).status_code == 404
    assert task in task_queue_for(world.colleague)


def test_a_supervisor_reassigns_within_the_organisation_only(world, client):
    case = world.flag()
    services.task_claim(actor=world.social_worker, case=case, node_name="diagnostic")
    outsider = member(Role.SOCIAL_WORKER, username="ts-ailleurs")
    with pytest.raises(ValidationError) as refused:
        services.task_reassign(
            actor=world.supervisor, case=case, node_name="diagnostic", to_user=outsider, reason="Réorganisation"
        )
    assert "même organisation" in str(refused.value)
    with pytest.raises(PermissionDenied):  # only a supervisor reassigns
        services.task_reassign(
            actor=world.colleague, case=case, node_name="diagnostic", to_user=world.colleague, reason="Je la prends"
        )

    client.force_login(world.supervisor)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    url = reverse("workflows:reassign", args=[case.pk, "diagnostic"])
    assert url in page
    listed = client.get(url).content.decode()
    assert world.colleague.get_full_name() in listed and outsider.get_full_name() not in listed
    response = client.post(url, {"to_user": outsider.pk, "reason": "Réorganisation"})
    assert response.status_code == 200
    assert "même organisation que son titulaire" in response.content.decode()
    assert queries.active_task(case, "diagnostic").owner == world.social_worker  # nothing changed

    response = client.post(url, {"to_user": world.colleague.pk, "reason": "Absence longue de la titulaire"})
    assert response.status_code == 302
    assert queries.active_task(case, "diagnostic").owner == world.colleague
    handover = StepHandover.objects.get(case=case, kind="reassigned")
    assert (handover.actor, handover.from_user, handover.to_user) == (
        world.supervisor,
        world.social_worker,
        world.colleague,
    )
    assert reason_of(handover) == "Étape réattribuée"
    # The new holder completes it.
    services.diagnostic_complete(actor=world.colleague, case=case, values=steps.DIAGNOSTIC)


def test_no_reassign_page_for_others(world, client):
    case = world.flag()
    services.task_claim(actor=world.social_worker, case=case, node_name="diagnostic")
    url = reverse("workflows:reassign", args=[case.pk, "diagnostic"])
    client.force_login(world.colleague)
    assert client.get(url).status_code == 404
    client.force_login(world.landlord_agent)
    assert client.get(url).status_code == 404


def test_a_delegate_only_from_the_same_organisation_and_job(world):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as refused:
        access_services.delegation_create(
            actor=world.social_worker,
            delegate=world.landlord_agent,
            starts_on=today,
            ends_on=today,
            reason="Congés annuels",
        )
    assert "mêmes fonctions" in str(refused.value)
    with pytest.raises(ValidationError):
        access_services.delegation_create(
            actor=world.social_worker,
            delegate=world.colleague,
            starts_on=today,
            ends_on=today - timedelta(days=1),
            reason="Congés annuels",
        )
    assert world.colleague in access_services.delegate_candidates(world.social_worker)
    assert world.landlord_agent not in access_services.delegate_candidates(world.social_worker)


@pytest.fixture
def standing_in(world):
    """A commission member (Toulon) holds the committee step of a Toulon case; a colleague of the same
    organisation and role, whose territory is Nantes, does not see the case unless standing in."""
    case = world.flag()
    steps.diagnose(world, case)
    services.task_claim(actor=world.commission, case=case, node_name="committee")
    delegate = member(Role.COMMISSION_MEMBER, world.state, communes=[NANTES], username="commission-nantes")
    today = timezone.localdate()
    delegation = access_services.delegation_create(
        actor=world.commission,
        delegate=delegate,
        starts_on=today + timedelta(days=2),
        ends_on=today + timedelta(days=4),
        reason="Congés annuels",
    )
    return case, delegate, delegation


def test_the_delegate_sees_the_steps_only_during_the_period(world, client, standing_in):
    case, delegate, _delegation = standing_in
    today = timezone.localdate()
    detail = reverse("cases:detail", args=[case.pk])
    task = queries.active_task(case, "committee")
    client.force_login(delegate)

    assert client.get(detail).status_code == 404  # before
    assert task not in task_queue_for(delegate)

    with time_machine.travel(today + timedelta(days=3)):  # during
        delegate = type(delegate).objects.get(pk=delegate.pk)
        assert task in task_queue_for(delegate)
        client.force_login(delegate)
        page = client.get(detail)
        assert page.status_code == 200
        assert "Reprendre l'étape (remplacement)" in page.content.decode()
        assert client.get(reverse("workflows:inbox")).status_code == 200

    with time_machine.travel(today + timedelta(days=5)):  # after: ended = 404
        delegate = type(delegate).objects.get(pk=delegate.pk)
        client.force_login(delegate)
        assert client.get(detail).status_code == 404
        assert task not in task_queue_for(delegate)


def test_the_delegate_takes_the_step(world, client, standing_in):
    case, delegate, _delegation = standing_in
    with time_machine.travel(timezone.localdate() + timedelta(days=2)):
        client.force_login(delegate)
        response = client.post(reverse("workflows:claim", args=[case.pk, "committee"]))
        assert response.status_code == 302
        assert queries.active_task(case, "committee").owner == delegate
        handover = StepHandover.objects.get(case=case)
        assert (handover.kind, handover.from_user, handover.to_user) == ("delegate_took", world.commission, delegate)
        # Taken over, the step is no longer the delegator's: the delegate keeps it through their inbox.
        assert client.get(reverse("workflows:inbox")).status_code == 200


def test_a_revoked_delegation_gives_nothing(world, client, standing_in):
    case, delegate, delegation = standing_in
    access_services.delegation_revoke(actor=world.commission, delegation=delegation)
    with time_machine.travel(timezone.localdate() + timedelta(days=3)):
        client.force_login(type(delegate).objects.get(pk=delegate.pk))
        assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404


def test_the_delegation_page(world, client):
    client.force_login(world.social_worker)
    url = reverse("permissions:delegations")
    assert world.colleague.get_full_name() in client.get(url).content.decode()
    today = timezone.localdate()
    response = client.post(
        url,
        {"delegate": world.colleague.pk, "starts_on": today, "ends_on": today - timedelta(days=1), "reason": "Congés"},
    )
    assert response.status_code == 200 and "La date de fin doit être" in response.content.decode()
    response = client.post(
        url, {"delegate": world.colleague.pk, "starts_on": today, "ends_on": today, "reason": "Congés annuels"}
    )
    assert response.status_code == 302
    delegation = world.social_worker.delegations_given.get()
    client.force_login(world.colleague)  # not theirs to end
    assert client.post(reverse("permissions:delegation_revoke", args=[delegation.pk])).status_code == 404
    client.force_login(world.social_worker)
    assert client.post(reverse("permissions:delegation_revoke", args=[delegation.pk])).status_code == 302
    delegation.refresh_from_db()
    assert delegation.revoked_by == world.social_worker
