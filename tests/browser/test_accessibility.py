"""axe-core over the demo territory, as each role sees it: every kind of page and every step form.

The journeys check the pages on their own path; the demo data (`manage.py load_demo`) puts cases at
every stage (DALO, protected, adjourned, refused, DALO-loss review, closed), so this
sweep meets the variants a journey does not: badges, deadlines, the DALO-loss committee form, closed
cases, and each role's view of them.
"""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from permissions.policy import policy

from .support import check_a11y, expect

pytestmark = pytest.mark.django_db(transaction=True)

DEMO_PASSWORD = "demo-ppgdid-2026"
# One account per role that works on cases (load_demo prints them all).
DEMO_USERS = [
    "ts.ccas",
    "encadrant.ccas",
    "accueil.ccas",
    "commission.ddets",
    "presidence.tpm",
    "bailleur.hem",
    "reservataire.al",
    "auditeur",
]
# Accounts without case pages: their home and their own pages only.
OTHER_USERS = {"admin.territoire": ["exchanges:imports", "permissions:membership_list"]}


def demo_log_in(session, username):
    page = session.page
    page.goto(reverse("login"))
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def case_variant(case) -> tuple:
    """Cases that render alike: same stage (closed counts as one), DALO, protected, DALO-loss review."""
    return (case.status, case.is_dalo, case.is_protected, case.dalo_loss_review_pending)


def sweep(session, username, problems, steps_seen):
    """Every kind of page the user reaches: inbox, list, one case of each variant, each step form."""
    page = session.page
    user = get_user_model().objects.get(username=username)
    demo_log_in(session, username)
    # The login lands on the role's home page (web/home.py).
    expect(page.get_by_role("heading", level=1, name="Accueil")).to_be_visible()
    problems += check_a11y(session, f"{username}:home", fail=False)
    page.goto(reverse("workflows:inbox"))
    problems += check_a11y(session, f"{username}:inbox", fail=False)
    page.goto(reverse("permissions:delegations"))
    problems += check_a11y(session, f"{username}:absences", fail=False)
    page.goto(reverse("cases:list"))
    problems += check_a11y(session, f"{username}:case-list", fail=False)
    variants = set()
    for case in policy.queryset_for(user).order_by("pk"):
        variant = case_variant(case)
        if variant in variants:
            continue
        variants.add(variant)
        page.goto(reverse("cases:detail", args=[case.pk]))
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Dossier {case.reference}")
        problems += check_a11y(session, f"{username}:case:{'-'.join(map(str, variant))}", fail=False)
        step_link = page.get_by_role("link", name=re.compile("^Faire l'étape"))
        if step_link.count():
            node = step_link.get_attribute("href").rstrip("/").rsplit("/", 1)[-1]
            step_variant = (node, case.is_dalo, case.dalo_loss_review_pending)
            if step_variant not in steps_seen:
                steps_seen.add(step_variant)
                step_link.click()
                name = f"{username}:step:{'-'.join(map(str, step_variant))}"
                problems += check_a11y(session, name, fail=False)
                # A diagnostic may be saved as it is (that would move the case); the committee step has no
                # form (the committee decides in session or by written procedure).
                if node not in ("diagnostic", "committee"):
                    # Sent as it is (required choices left empty): the page with its errors.
                    page.get_by_role("button", name="Enregistrer l'étape").click()
                    expect(page.get_by_role("alert")).to_contain_text("erreurs")
                    problems += check_a11y(session, f"{name}:errors", fail=False)
        if len(variants) == 1:  # the notes and documents pages of one case per user
            for name, url in (
                ("notes", reverse("cases:notes", args=[case.pk])),
                ("documents", reverse("documents:case", kwargs={"case_pk": case.pk})),
            ):
                if page.goto(url).status == 200:
                    problems += check_a11y(session, f"{username}:{name}", fail=False)
            page.goto(reverse("cases:detail", args=[case.pk]))
        if case.is_open and page.get_by_role("link", name="Modifier le ménage").count():
            page.get_by_role("link", name="Modifier le ménage").click()
            problems += check_a11y(session, f"{username}:household-edit", fail=False)
    assert variants, f"{username} sees no demo case"


def test_every_page_each_role_reaches_has_no_serious_violation(transactional_db, people):
    call_command("load_demo", stdout=io.StringIO())
    problems, steps_seen = [], set()
    for username in DEMO_USERS:
        sweep(people.open(username), username, problems, steps_seen)
    for username, names in OTHER_USERS.items():
        session = people.open(username)
        demo_log_in(session, username)
        expect(session.page.get_by_role("heading", level=1, name="Accueil")).to_be_visible()
        problems += check_a11y(session, f"{username}:home", fail=False)
        for name in names:
            assert session.page.goto(reverse(name)).status == 200
            problems += check_a11y(session, f"{username}:{name}", fail=False)
    assert not problems, "\n".join(problems)
    assert {node for node, _dalo, _review in steps_seen} >= {
        "diagnostic",
        "committee",
        "proposal",
        "caleol",
        "reply",
        "lease",
    }
