"""The demo command: idempotent, and it fills every step of the flow through the real services."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Exists, F, OuterRef, Q
from django.http import HttpRequest  # django-axes checks the login against its request
from django.urls import reverse
from viewflow.workflow.models import Task

from cases import choices
from cases.models import Case, CommitteeReview, Household
from permissions.queues import task_queue_for

pytestmark = pytest.mark.django_db


def test_demo_runs_twice_and_covers_every_step(client):
    out = StringIO()
    call_command("load_demo", stdout=out)
    first = out.getvalue()
    assert "demo-ppgdid-2026" in first and "ts.ccas" in first and "bailleur.lfv" in first
    counts = (Household.objects.count(), Case.objects.count(), Task.objects.count())
    assert counts[0] >= 30

    call_command("load_demo", stdout=StringIO())  # again: nothing duplicated, nothing fails
    assert (Household.objects.count(), Case.objects.count(), Task.objects.count()) == counts

    statuses = set(Case.objects.values_list("status", flat=True))
    assert statuses == set(choices.CaseStatus.values)
    reasons = set(Case.objects.exclude(closure_reason="").values_list("closure_reason", flat=True))
    assert choices.ClosureReason.REHOUSED_SOCIAL in reasons and len(reasons) >= 4
    assert Case.objects.filter(is_dalo=True).exists()
    assert Case.objects.filter(is_protected=True).exists()
    assert Case.objects.filter(household__housing_situation=choices.HousingSituation.HOMELESS).exists()
    assert Case.objects.filter(dalo_loss_review_pending=True).exists()
    assert Case.objects.filter(refusal_count__gt=0, closed_at__isnull=True).exists()
    for household in Household.objects.all():
        assert household.applicant_last_name in {
            "Exemple", "Fictif", "Démo", "Essai", "Modèle", "Témoin", "Maquette", "Imaginaire", "Inventé", "Spécimen"
        }  # fmt: skip
    # The copy the list scopes read (permissions.policy): set exactly on the examined cases, and every
    # designated case or case with a proposal was examined (the landlord scope relies on it).
    examined = Case.objects.annotate(reviewed=Exists(CommitteeReview.objects.filter(case=OuterRef("pk"))))
    assert not examined.exclude(decided_in_committee=F("reviewed")).exists()
    assert examined.filter(reviewed=True).exists() and examined.filter(reviewed=False).exists()
    partner = Q(designated_landlord__isnull=False) | Q(proposals__isnull=False)
    assert Case.objects.filter(partner).exists()
    assert not Case.objects.filter(partner, decided_in_committee=False).exists()
    # Real history: each step's author is the demo user of that role (the committee's secretary records
    # its collective decisions).
    owners = set(Task.objects.filter(flow_task_type="HUMAN").values_list("owner__username", flat=True))
    assert {"ts.ccas", "secretariat.ddets", "bailleur.hem", "bailleur.lfv"} <= owners

    # The logins work, and each role finds its work in its inbox.
    assert client.login(request=HttpRequest(), username="commission.ddets", password="demo-ppgdid-2026")
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    assert len(task_queue_for(users.get(username="commission.ddets"))) >= 4
    assert task_queue_for(users.get(username="bailleur.hem"))
    assert task_queue_for(users.get(username="ts.ccas"))
    assert client.get(reverse("workflows:inbox")).status_code == 200
