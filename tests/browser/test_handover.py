"""Issue 18 part 3 in the browser: a supervisor reassigns a step, a delegate takes a step during the
absence of its holder; part 4: a note with a mention. axe-core on each new page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from workflows import queries, services

from .support import check_a11y, expect
from .test_journeys import label, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_supervisor_reassigns_a_step(world, people):
    case = world.flag()
    services.task_claim(actor=world.social_worker, case=case, node_name="diagnostic")
    boss = people.open("encadrant")
    page = boss.page
    log_in(boss, "encadrant")
    page.goto(reverse("cases:detail", args=[case.pk]))
    page.get_by_role("link", name="Réattribuer l'étape").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Réattribuer l'étape")
    check_a11y(boss, "reassign-form")
    page.get_by_role("button", name="Réattribuer l'étape").click()  # nothing chosen: French errors
    expect(page.locator(".errorlist").first).to_be_visible()
    page.get_by_label(label("Confier l'étape à")).select_option(label=world.colleague.get_full_name())
    page.get_by_label(label("Motif")).fill("Absence longue de la titulaire")
    page.get_by_role("button", name="Réattribuer l'étape").click()
    expect(page.get_by_role("status")).to_contain_text("Étape réattribuée")
    boss.step("reassigned")
    assert queries.active_task(case, "diagnostic").owner == world.colleague


def test_delegate_takes_a_step_during_the_absence(world, people):
    case = world.flag()
    services.task_claim(actor=world.social_worker, case=case, node_name="diagnostic")
    today = timezone.localdate()

    absent = people.open("ts")
    page = absent.page
    log_in(absent, "ts")
    page.get_by_role("link", name="Absences", exact=True).click()  # the menu's (the home page links there too)
    expect(page.get_by_role("heading", level=1, name="Absences et remplacements")).to_be_visible()
    check_a11y(absent, "delegations")
    page.get_by_label(label("Remplaçant ou remplaçante")).select_option(label=world.colleague.get_full_name())
    page.get_by_label(label("Absent(e) du")).fill(today.isoformat())
    page.get_by_label(label("au (inclus)")).fill((today + timedelta(days=7)).isoformat())
    page.get_by_label(label("Motif")).fill("Congés annuels")
    page.get_by_role("button", name="Enregistrer mon remplaçant").click()
    expect(page.get_by_role("status")).to_contain_text("remplaçant est enregistré")
    absent.step("delegation-saved")

    delegate = people.open("ts2")
    page = delegate.page
    log_in(delegate, "ts2")
    page.goto(reverse("workflows:inbox"))
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=case.reference, exact=True))
    row.get_by_role("button", name="Prendre en charge").click()
    expect(page.get_by_role("status")).to_contain_text("Étape prise en charge")
    delegate.step("taken")
    assert queries.active_task(case, "diagnostic").owner == world.colleague
    assert case.step_handovers.get().kind == "delegate_took"


def test_social_worker_writes_a_note_and_names_a_colleague(world, people):
    case = world.flag()
    ts = people.open("ts")
    page = ts.page
    log_in(ts, "ts")
    page.goto(reverse("cases:detail", args=[case.pk]))
    page.get_by_role("link", name="Toutes les notes et écrire une note").click()
    check_a11y(ts, "case-notes")
    page.get_by_label(label("Type de contact")).select_option(label="Visite")
    page.get_by_label(label("Note")).fill("Visite au domicile de la sœur : le ménage doit partir avant le 15.")
    page.get_by_label(label("Signaler la note à un collègue (facultatif)")).select_option(
        label=world.colleague.get_full_name()
    )
    page.get_by_role("button", name="Enregistrer la note").click()
    expect(page.get_by_role("status")).to_contain_text("Note enregistrée")
    expect(page.get_by_text("Signalée à " + world.colleague.get_full_name())).to_be_visible()
    check_a11y(ts, "case-notes-with-a-note")
    assert case.notes.get().mentioned == world.colleague
