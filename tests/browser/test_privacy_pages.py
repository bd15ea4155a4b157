"""axe-core over the privacy pages (issue 22): the DPO's view and a case's right-of-access page."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from cases.models import Case

from .support import check_a11y, expect
from .test_accessibility import demo_log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_privacy_pages_have_no_serious_violation(transactional_db, people):
    call_command("load_demo", stdout=io.StringIO())
    case = Case.objects.filter(referent__username="ts.ccas").order_by("pk").first()
    referent = people.open("ts.ccas")
    demo_log_in(referent, "ts.ccas")
    referent.page.goto(reverse("privacy:subject_access", args=[case.pk]))
    expect(referent.page.get_by_role("heading", level=1)).to_contain_text("Droit d'accès du ménage")
    check_a11y(referent, "referent:subject-access")
    dpo = people.open("dpo.ccas")
    demo_log_in(dpo, "dpo.ccas")
    dpo.page.goto(reverse("privacy:dpo"))
    expect(dpo.page.get_by_role("heading", level=1)).to_have_text("Protection des données")
    check_a11y(dpo, "dpo:read-log")
    dpo.page.goto(reverse("privacy:dpo") + "?since=2026-05-02&until=2026-05-01")
    expect(dpo.page.get_by_role("alert")).to_contain_text("La date de début doit précéder la date de fin.")
    check_a11y(dpo, "dpo:read-log:errors")
