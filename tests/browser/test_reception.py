"""The reception network in a real browser: a reception agent orients a person to a social worker who
confirms the pre-flag (the case opens), the household reads its status on a phone-sized screen, and
axe-core on every new page (public, staff, household)."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from cases.models import Case
from reception import services
from reception.models import CommuneStock, PreFlag, ScriptEntry
from tests.factories import TOULON, commune
from tests.reception.conftest import Net
from tests.workflows import steps

from .support import check_a11y, expect
from .test_journeys import label, log_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 375, "height": 740}


def assert_fits_the_screen(session):
    width = session.page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways on a phone ({width[0]}px > {width[1]}px)"


def test_reception_agent_orients_a_person_and_the_social_worker_confirms(world, people):
    net = Net(world)
    agent = people.open("accueil")
    page = agent.page
    log_in(agent, "agent-accueil")
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Accueil du public").click()
    check_a11y(agent, "reception-index")
    page.get_by_role("link", name="Orienter une personne (questionnaire)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Orienter une personne")
    check_a11y(agent, "orientation")
    page.get_by_label(label("Où la personne vit-elle aujourd'hui ?")).select_option(label="Hébergé chez un tiers")
    page.get_by_label(re.compile("enfant mineur dans un logement trop petit")).check()
    page.get_by_label(re.compile("violences de votre conjoint")).check()
    page.get_by_role("button", name="Voir les critères possibles").click()
    expect(page.get_by_role("heading", level=2, name=re.compile("e\\) Violences"))).to_be_visible()
    expect(page.get_by_text("Ordonnance de protection")).to_be_visible()
    check_a11y(agent, "orientation-results")
    agent.step("results")

    referral = page.locator("form").filter(has=page.get_by_role("button", name="Orienter vers ce travailleur social"))
    referral.get_by_label(label("Orienté vers")).select_option(label=str(world.ccas))
    referral.get_by_label(label("Nom")).fill("Navigatrice")
    referral.get_by_label(label("Prénom")).fill("Inès")
    referral.get_by_label(label("Téléphone")).fill("0611223344")
    referral.get_by_label(label("Commune actuelle")).select_option(label="Toulon (83137)")
    page.get_by_role("button", name="Orienter vers ce travailleur social").click()
    expect(page.get_by_role("alert")).to_contain_text("L'accord de la personne est nécessaire")
    check_a11y(agent, "orientation-referral-errors")
    referral.get_by_label(re.compile("La personne accepte")).check()
    page.get_by_role("button", name="Orienter vers ce travailleur social").click()
    expect(page.get_by_role("status")).to_contain_text("un travailleur social confirmera le pré-signalement")
    check_a11y(agent, "preflags-reception")
    preflag = PreFlag.objects.get()
    assert preflag.criteria == ["e", "h", "i"] and preflag.desk == net.desk

    ts = people.open("ts")
    page = ts.page
    log_in(ts, "ts")
    page.goto(reverse("reception:preflags"))
    page.get_by_role("link", name=f"Examiner le pré-signalement n° {preflag.pk}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Pré-signalement n° {preflag.pk}")
    expect(page.get_by_text("envisagez de protéger le dossier")).to_be_visible()
    check_a11y(ts, "preflag")
    form = page.locator("form").filter(has=page.get_by_role("button", name="Confirmer et ouvrir le dossier"))
    assert form.get_by_label(label("Nom du demandeur")).input_value() == "Navigatrice"
    form.get_by_label(label("Numéro unique (NUD)")).fill("08324012400001234A")
    form.get_by_label(label("Date de naissance du demandeur")).fill("1991-04-12")
    ts.step("confirm-filled")
    page.get_by_role("button", name="Confirmer et ouvrir le dossier").click()
    case = Case.objects.get()
    expect(page.get_by_role("heading", level=1, name=f"Dossier {case.reference}")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Pré-signalement confirmé")
    assert case.is_protected and case.organisation == world.ccas and case.referent == world.social_worker
    assert set(case.criteria.values_list("code", flat=True)) == {"e", "h", "i"}
    ts.step("case-opened")

    page.get_by_role("link", name="Accès du ménage à son dossier (code d'accès)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Accès du ménage à son dossier {case.reference}")
    check_a11y(ts, "household-access")
    page.get_by_label(label("Envoi du code à usage unique par")).select_option(label="SMS")
    page.get_by_label(label("Adresse électronique ou numéro de mobile")).fill("06 11 22 33 44")
    page.get_by_role("button", name="Créer le code d'accès").click()
    expect(page.get_by_role("heading", name="Code d'accès à remettre")).to_be_visible()
    check_a11y(ts, "household-access-issued")


def test_household_reads_its_status_on_a_phone(world, people, settings):
    net = Net(world)
    case = steps.allocate(world, steps.propose(world, steps.label(world, steps.diagnose(world, world.flag()))))
    _item, code = services.access_issue(
        actor=world.social_worker,
        case=case,
        holder="",
        channel="email",
        destination="menage@example.org",
        desk=net.desk,
    )
    mail.outbox = []
    household = people.open("menage")
    page = household.page
    page.set_viewport_size(PHONE)
    page.goto(reverse("mon_dossier:sign_in"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Suivre mon dossier")
    check_a11y(household, "household-sign-in")
    assert_fits_the_screen(household)
    page.get_by_label(label("Numéro de dossier")).fill(case.reference)
    page.get_by_label(label("Code d'accès personnel")).fill(code)
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Saisissez le code reçu")
    check_a11y(household, "household-code")
    page.get_by_label(label("Code reçu")).fill("12")
    page.get_by_role("button", name="Ouvrir mon dossier").click()
    expect(page.get_by_role("alert")).to_contain_text("Le code compte 6 chiffres")
    check_a11y(household, "household-code-error")
    otp = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    page.get_by_label(label("Code reçu")).fill(otp)
    page.get_by_role("button", name="Ouvrir mon dossier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Mon dossier {case.reference}")
    expect(page.get_by_text("Un logement vous est attribué : vous devez répondre")).to_be_visible()
    expect(page.get_by_role("heading", name="Ce que vous devez faire")).to_be_visible()
    expect(page.get_by_text(net.desk.name)).to_be_visible()
    check_a11y(household, "household-status")
    assert_fits_the_screen(household)
    household.step("status-on-phone")
    font = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.household')).fontSize)")
    assert font >= 18, "large text on the household's pages"
    page.get_by_role("button", name="Me déconnecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suivre mon dossier")


def test_new_pages_have_no_serious_accessibility_violation(world, people):
    net = Net(world)
    CommuneStock.objects.create(
        commune=commune(TOULON), typology="T3", dwellings=800, accessible_dwellings=3, allocations_12_months=60,
        median_wait_months=24, reference_year=2025,
    )  # fmt: skip
    draft = services.script_draft(actor=net.head, network=net.network)
    services.script_entry_save(
        actor=net.head, entry=ScriptEntry(version=draft, topic="dalo", title="Le DALO", body="Saisir la COMED.")
    )
    services.script_publish(actor=net.head, version=draft, note="Première version")
    services.script_draft(actor=net.head, network=net.network)
    public = people.open("public")
    for name, url in [
        ("desks", reverse("reception:desks") + "?commune=Toulon"),
        ("communes", reverse("reception:communes")),
        ("commune", reverse("reception:commune", kwargs={"code": TOULON})),
        ("information", reverse("reception:information")),
    ]:
        public.page.goto(url)
        check_a11y(public, f"public-{name}")
    public.page.set_viewport_size(PHONE)
    public.page.goto(reverse("reception:commune", kwargs={"code": TOULON}))
    check_a11y(public, "public-commune-phone")

    head = people.open("tete")
    log_in(head, "tete")
    entry = ScriptEntry.objects.filter(version__published_at__isnull=True).get()
    for name, url in [
        ("desk-manage", reverse("reception:desk_manage")),
        ("desk-form", reverse("reception:desk_edit", kwargs={"pk": net.desk.pk})),
        ("script", reverse("reception:script")),
        ("script-draft", reverse("reception:script_draft")),
        ("script-entry", reverse("reception:script_entry", kwargs={"pk": entry.pk})),
        ("stats", reverse("reception:stats")),
    ]:
        head.page.goto(url)
        check_a11y(head, f"head-{name}")
    head.page.goto(reverse("reception:desk_create"))
    head.page.get_by_role("button", name="Enregistrer le lieu").click()
    expect(head.page.get_by_role("alert")).to_contain_text("Le formulaire contient des erreurs")
    check_a11y(head, "head-desk-form-errors")

    agent = people.open("agent")
    log_in(agent, "agent-accueil")
    agent.page.goto(reverse("reception:contact_create"))
    check_a11y(agent, "contact-form")
    agent.page.get_by_role("button", name="Enregistrer").click()
    expect(agent.page.get_by_role("alert")).to_contain_text("Le formulaire contient des erreurs")
    check_a11y(agent, "contact-form-errors")
