"""The users' journeys, done in a real browser as people do them, with axe-core on every main page.

Each journey starts from the state the previous one leaves (built with the workflow services, as in
tests/workflows/steps.py), so a failure points at one journey. Users log in through the login form.
"""

import re
from datetime import date

import pytest
from django.urls import reverse

from cases import choices
from cases.models import Case
from tests.workflows import steps

from .support import check_a11y, expect

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "motdepasse-test-1"  # tests/factories.py


def label(text):
    """A field's label, exactly (Django may add a colon after it)."""
    return re.compile(rf"^\s*{re.escape(text)}\s*:?\s*$", re.IGNORECASE)


def log_in(session, username, *, check=False):
    page = session.page
    page.goto(reverse("login"))
    if check:
        check_a11y(session, "login")
    page.get_by_label(label("Identifiant")).fill(username)
    page.get_by_label(label("Mot de passe")).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    session.step("logged-in")


def go_to_case_list(session):
    session.page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Dossiers").click()
    expect(session.page.get_by_role("heading", level=1, name="Dossiers")).to_be_visible()


def open_case_from_list(session, case):
    """Search the case list by reference and open the case from the results."""
    page = session.page
    go_to_case_list(session)
    page.get_by_label(label("Rechercher")).fill(case.reference)
    page.get_by_role("button", name="Filtrer").click()
    page.get_by_role("link", name=case.reference, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=f"Dossier {case.reference}")).to_be_visible()


def do_open_step(session, title):
    """From the case page, open the step waiting on the case."""
    session.page.get_by_role("link", name=f"Faire l'étape « {title} »").click()
    expect(session.page.get_by_role("heading", level=1, name=re.compile(re.escape(title)))).to_be_visible()


def save_step(session, label):
    page = session.page
    page.get_by_role("button", name="Enregistrer l'étape").click()
    expect(page.get_by_role("status")).to_contain_text("enregistrée")
    session.step(label)


def fresh(case):
    return Case.objects.get(pk=case.pk)


def test_social_worker_flags_a_household_and_completes_the_diagnostic(world, people):
    ts = people.open("ts")
    page = ts.page
    log_in(ts, "ts", check=True)
    check_a11y(ts, "inbox")

    go_to_case_list(ts)
    check_a11y(ts, "case-list")
    page.get_by_role("link", name="Signaler un ménage").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Signaler un ménage prioritaire")
    check_a11y(ts, "case-create")

    applicant = page.get_by_role("group", name="Le ménage (demandeur)")
    applicant.get_by_label(label("Numéro unique (NUD)")).fill("083240124000012AB")  # 17 characters: refused
    applicant.get_by_label(label("Nom du demandeur")).fill("Navigateur")
    applicant.get_by_label(label("Prénom du demandeur")).fill("Léa")
    applicant.get_by_label(label("Date de naissance du demandeur")).fill("1988-03-14")
    applicant.get_by_label(label("Téléphone")).fill("0611223344")
    applicant.get_by_label(label("Adresse actuelle")).fill("3 impasse des Tests")
    # The commune picker (static/js/combobox.js): type part of the name, pick among the territory's communes.
    commune = applicant.get_by_role("combobox", name=label("Commune actuelle"))
    commune.fill("toul")
    expect(page.get_by_role("option", name="Nantes (44109)")).to_have_count(0)
    page.get_by_role("option", name="Toulon (83137)").click()
    expect(commune).to_have_value("Toulon (83137)")
    applicant.get_by_label(label("Situation de logement")).select_option(label="Hébergé chez un tiers")
    applicant.get_by_label(label("Salaires mensuels (€)")).fill("1100")

    child = page.get_by_role("group", name="Membre 1")
    child.get_by_label(label("Prénom")).fill("Noé")
    child.get_by_label(label("Nom")).fill("Navigateur")
    child.get_by_label(label("Lien")).select_option(label="Enfant")
    child.get_by_label(label("Date de naissance")).fill("2019-06-01")

    criterion = page.get_by_role("group", name="Critère 1")
    criterion.get_by_label(label("Critère")).select_option(value="i")
    criterion.get_by_label(label("Source")).select_option(label="Travailleur social")
    criterion.get_by_label(label("Justificatif")).fill("Hébergée chez sa sœur depuis huit mois.")
    criterion = page.get_by_role("group", name="Critère 2")
    criterion.get_by_label(label("Critère")).select_option(value="h")
    criterion.get_by_label(label("Source")).select_option(label="Travailleur social")
    ts.step("create-filled")

    # A bad NUD: nothing saved, the error is shown next to its field and linked to it.
    page.get_by_role("button", name="Créer le dossier").click()
    expect(page.get_by_role("alert")).to_contain_text("Le formulaire contient des erreurs")
    nud = page.get_by_label(label("Numéro unique (NUD)"))
    assert_error_announced(ts, nud)
    assert not Case.objects.exists()
    check_a11y(ts, "case-create-errors")

    nud.fill("08324012400001234A")
    page.get_by_role("button", name="Créer le dossier").click()
    expect(page.get_by_role("status")).to_contain_text("créé")
    case = Case.objects.get(household__nud="08324012400001234A")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Dossier {case.reference}")
    expect(page.get_by_text("Diagnostic social en cours")).to_be_visible()
    check_a11y(ts, "case-detail")
    assert sorted(case.criteria.values_list("code", flat=True)) == ["h", "i"]
    assert case.household.members.get().first_name == "Noé"
    page.get_by_role("link", name="Modifier le ménage").click()
    check_a11y(ts, "household-edit")
    page.go_back()

    do_open_step(ts, "Diagnostic social")
    check_a11y(ts, "step-diagnostic")
    page.get_by_label(label("Situation familiale")).fill("Mère seule avec un enfant de six ans.")
    page.get_by_label(label("Ressources mensuelles du ménage (€)")).fill("1350")
    page.get_by_label(label("Typologie recommandée")).select_option("T3")
    page.get_by_label(label("Urgence")).select_option(label="Forte")
    page.get_by_label(label("Synthèse pour la commission")).fill("Hébergée, besoin d'un T3 près de l'école.")
    save_step(ts, "diagnostic-saved")

    expect(page.get_by_text("En attente de commission")).to_be_visible()
    case = fresh(case)
    assert case.status == choices.CaseStatus.COMMITTEE
    assert case.diagnostic.committee_synthesis.startswith("Hébergée")
    assert case.diagnostic.completed_at is not None


def assert_error_announced(session, field):
    """The field is marked invalid, and its error text sits in the field's container, linked to the field
    by aria-describedby, so a screen reader reads it with the field."""
    page = session.page
    assert field.get_attribute("aria-invalid") == "true", "a field in error must say so (aria-invalid)"
    described = (field.get_attribute("aria-describedby") or "").split()
    linked = [page.locator(f"[id='{ident}']") for ident in described]
    errors = [el for el in linked if el.count() and el.inner_text().strip() and el.is_visible()]
    assert errors, f"no visible error text linked by aria-describedby ({described})"
    container = field.locator("xpath=ancestor::*[contains(concat(' ', @class, ' '), ' field ')][1]")
    assert container.locator(f"[id='{errors[0].get_attribute('id')}']").count() == 1, "error not next to its field"
    session.step("error-announced")


def test_commission_member_finds_the_case_and_the_committee_labels_it(world, people):
    from committees import services as committee_services

    case = world.flag()
    steps.diagnose(world, case)
    committee = steps.committee(world, case)
    secretary = steps.secretary(world)

    # A member opens the step from the inbox: the synthesis and where the committee decides, no form.
    member = people.open("commission")
    page = member.page
    log_in(member, "commission")
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Mes tâches").click()
    check_a11y(member, "inbox-commission")
    queue = page.get_by_role("table", name="Étapes disponibles pour mon équipe")
    row = queue.get_by_role("row").filter(has_text=case.reference)
    expect(row).to_contain_text("Examen en commission")
    row.get_by_role("button", name=re.compile("Prendre en charge")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Examen en commission")
    expect(page.get_by_role("heading", level=2, name="Fiche de synthèse")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Où la décision est prise")).to_be_visible()
    expect(page.get_by_role("button", name="Enregistrer l'étape")).to_have_count(0)
    check_a11y(member, "step-committee")

    # The secretary opens a written procedure from the committee's page.
    sec = people.open("secretariat")
    spage = sec.page
    log_in(sec, secretary.username)
    spage.goto(reverse("committees:detail", args=[committee.pk]))
    spage.get_by_role("link", name="Ouvrir une procédure écrite").click()
    check_a11y(sec, "procedure-open")
    spage.get_by_label(label("Dossier soumis par écrit")).select_option(value=str(case.pk))
    spage.get_by_label(label("Réponses attendues au plus tard le")).fill("2099-01-31")
    spage.get_by_role("button", name="Ouvrir la procédure et prévenir les membres").click()
    expect(spage.get_by_role("status").first).to_contain_text("Procédure écrite ouverte")
    procedure = case.written_procedures.get()

    # The member votes in writing; the chair and the secretary too.
    page.goto(reverse("committees:procedure", args=[procedure.pk]))
    check_a11y(member, "procedure-member")
    page.get_by_role("radio", name="Labellisé").check()
    page.get_by_role("button", name="Enregistrer mon vote").click()
    expect(page.get_by_text("Votre vote : Labellisé")).to_be_visible()
    for seat in committee.members.exclude(user=world.commission):
        committee_services.procedure_vote(actor=seat.user, procedure=procedure, choice="labelled")

    # The secretary records the outcome: only the labelled fields show; a missing landlord is refused.
    spage.reload()
    decision = spage.locator("form[data-outcome-form]")
    expect(decision.get_by_label(label("À compléter avant le (si ajourné)"))).to_be_hidden()
    decision.get_by_role("radio", name="Labellisé").check()
    expect(decision.get_by_label(label("À compléter avant le (si ajourné)"))).to_be_hidden()
    decision.get_by_label(label("Orientation (si labellisé)")).select_option(label="Logement ordinaire")
    decision.get_by_role("button", name="Enregistrer l'issue de la procédure").click()
    assert_error_announced(sec, spage.get_by_label(label("Bailleur désigné (si labellisé)")))
    check_a11y(sec, "procedure-errors")
    assert fresh(case).status == choices.CaseStatus.COMMITTEE

    decision = spage.locator("form[data-outcome-form]")
    decision.get_by_label(label("Bailleur désigné (si labellisé)")).select_option(label=world.landlord.name)
    decision.get_by_label(label("Réservataire cible (si labellisé)")).select_option(label=world.reservataire.name)
    decision.get_by_label(label("Mesure d'accompagnement (si labellisé)")).select_option(
        label="ASLL (accompagnement social lié au logement)"
    )
    decision.get_by_role("button", name="Enregistrer l'issue de la procédure").click()
    expect(spage.get_by_role("status").first).to_contain_text("Issue de la procédure écrite enregistrée")
    sec.step("procedure-closed")
    review = fresh(case).committee_reviews.get()
    assert review.outcome == choices.CommitteeOutcome.LABELLED
    assert review.designated_landlord == world.landlord
    assert review.decided_by == secretary and review.written_procedure == procedure


def test_landlord_records_proposals_decisions_refusal_and_lease(world, people):
    case = world.flag()
    steps.diagnose(world, case)
    steps.label(world, case)

    agent = people.open("bailleur")
    page = agent.page
    log_in(agent, "bailleur")
    open_case_from_list(agent, case)
    check_a11y(agent, "case-detail-landlord")

    # First proposal, allocated by the CALEOL, refused by the household.
    do_open_step(agent, "Proposition de logement")
    check_a11y(agent, "step-proposal")
    page.get_by_label(label("Logement")).select_option(label=str(world.dwelling))
    page.get_by_label(label("Offre notifiée le")).fill("2026-11-02")
    # The match check warns (T3 for a one-person household, effort rate): the landlord states why it goes on.
    page.get_by_label(label("Motif de maintien malgré les alertes")).fill("Seul logement disponible dans le secteur.")
    page.get_by_label(label("Moins de trois candidats pour ce logement ?")).select_option(
        label="Candidats en nombre insuffisant"
    )
    page.get_by_label(label("Précisions sur le nombre de candidats")).fill("Un seul ménage labellisé pour ce T3.")
    save_step(agent, "proposal-1")

    do_open_step(agent, "Décision CALEOL")
    check_a11y(agent, "step-caleol")
    page.get_by_label(label("Décision")).select_option(label="Attribution")
    page.get_by_label(label("Date de la CALEOL")).fill("2026-11-10")
    save_step(agent, "caleol-1")

    do_open_step(agent, "Réponse du ménage")
    check_a11y(agent, "step-reply")
    page.get_by_label(label("Réponse")).select_option(label="Refusée")
    page.get_by_label(label("Date de la réponse")).fill("2026-11-15")
    page.get_by_role("button", name="Enregistrer l'étape").click()  # no motive: refused
    assert_error_announced(agent, page.get_by_label(label("Motif du refus")))
    check_a11y(agent, "step-reply-errors")
    page.get_by_label(label("Motif du refus")).select_option(label="Localisation (commune ou secteur non souhaité)")
    page.get_by_label(label("Commentaire")).fill("Trop loin de l'école de l'enfant.")
    save_step(agent, "reply-1-refused")
    expect(page.get_by_text("En attente de proposition")).to_be_visible()

    # Second proposal: allocated, accepted, lease signed.
    do_open_step(agent, "Proposition de logement")
    page.get_by_label(label("Logement")).select_option(label=str(world.dwelling2))
    page.get_by_label(label("Offre notifiée le")).fill("2026-11-20")
    page.get_by_label(label("Motif de maintien malgré les alertes")).fill("Ménage d'accord pour visiter.")
    page.get_by_label(label("Moins de trois candidats pour ce logement ?")).select_option(
        label="Candidats en nombre insuffisant"
    )
    page.get_by_label(label("Précisions sur le nombre de candidats")).fill("Un seul ménage labellisé pour ce T3.")
    save_step(agent, "proposal-2")
    do_open_step(agent, "Décision CALEOL")
    page.get_by_label(label("Décision")).select_option(label="Attribution")
    page.get_by_label(label("Date de la CALEOL")).fill("2026-11-25")
    save_step(agent, "caleol-2")
    do_open_step(agent, "Réponse du ménage")
    page.get_by_label(label("Réponse")).select_option(label="Acceptée")
    page.get_by_label(label("Date de la réponse")).fill("2026-11-28")
    save_step(agent, "reply-2-accepted")
    do_open_step(agent, "Signature du bail")
    check_a11y(agent, "step-lease")
    page.get_by_label(label("Bail signé le")).fill("2026-12-01")
    save_step(agent, "lease")

    case = fresh(case)
    assert not case.is_open
    assert case.closure_reason == choices.ClosureReason.REHOUSED_SOCIAL
    first, second = case.proposals.order_by("created_at", "pk")
    assert first.reply.refusal_motive == choices.RefusalMotive.LOCATION
    assert second.reply.answer == choices.ReplyAnswer.ACCEPTED
    assert second.lease_signed_on == date(2026, 12, 1)
    check_a11y(agent, "case-detail-closed-landlord")


def rehouse_after_one_refusal(world, case):
    steps.diagnose(world, case)
    steps.label(world, case)
    steps.propose(world, case)
    steps.allocate(world, case)
    steps.refuse(world, case)
    steps.propose(world, case, world.dwelling2)
    steps.allocate(world, case)
    steps.accept(world, case)
    return steps.sign(world, case)


def test_social_worker_sees_the_case_closed_as_rehoused_with_its_history(world, people):
    case = rehouse_after_one_refusal(world, world.flag())

    ts = people.open("ts")
    page = ts.page
    log_in(ts, "ts")
    go_to_case_list(ts)
    page.get_by_label(label("État")).select_option(label="Clos")
    page.get_by_role("button", name="Filtrer").click()
    row = page.get_by_role("row").filter(has_text=case.reference)
    expect(row).to_contain_text("Relogé")
    row.get_by_role("link", name=case.reference).click()
    check_a11y(ts, "case-detail-closed")

    expect(page.get_by_text(re.compile(r"clos le \d\d/\d\d/\d{4}"))).to_be_visible()
    history = page.locator("ol.steps > li")
    expected = [
        ("Diagnostic social", world.social_worker),
        ("Examen en commission", steps.secretary(world)),  # recorded the committee's written procedure
        ("Proposition de logement", world.landlord_agent),
        ("Décision CALEOL", world.landlord_agent),
        ("Réponse du ménage", world.landlord_agent),
        ("Proposition de logement", world.landlord_agent),
        ("Décision CALEOL", world.landlord_agent),
        ("Réponse du ménage", world.landlord_agent),
        ("Signature du bail", world.landlord_agent),
    ]
    expect(history).to_have_count(len(expected))
    for item, (title, user) in zip(history.all(), expected, strict=True):
        expect(item).to_contain_text(title)
        expect(item).to_contain_text(user.get_full_name())
        expect(item).to_contain_text(re.compile(r"le \d\d/\d\d/\d{4} à \d\d:\d\d"))
    proposals = page.get_by_role("heading", level=3, name=re.compile("^Proposition"))
    expect(proposals).to_have_count(2)
    expect(page.get_by_text("Localisation (commune ou secteur non souhaité)")).to_be_visible()
    expect(page.get_by_text("Bail signé le")).to_be_visible()
    ts.step("history")


def test_agent_of_another_landlord_can_neither_find_nor_open_the_case(world, people):
    case = world.flag()
    steps.diagnose(world, case)
    steps.label(world, case)
    steps.propose(world, case)
    household = case.household

    other = people.open("bailleur2")
    page = other.page
    log_in(other, "bailleur2")
    go_to_case_list(other)
    for query in (case.reference, household.nud, household.applicant_last_name):
        page.get_by_label(label("Rechercher")).fill(query)
        page.get_by_role("button", name="Filtrer").click()
        expect(page.get_by_text("Aucun dossier ne correspond.")).to_be_visible()
        expect(page.get_by_role("link", name=case.reference)).to_have_count(0)
    other.step("search-empty")

    for url in (
        reverse("cases:detail", args=[case.pk]),
        reverse("workflows:step", args=[case.pk, "caleol"]),
    ):
        response = page.goto(url)
        assert response.status == 404, url
        expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
        expect(page.get_by_text(case.reference)).to_have_count(0)
        expect(page.get_by_text(household.applicant_last_name, exact=False)).to_have_count(0)
    other.step("direct-url-404")
    check_a11y(other, "not-found")

    # The designated landlord's agent does find it: the search above could succeed.
    agent = people.open("bailleur")
    log_in(agent, "bailleur")
    open_case_from_list(agent, case)


def test_social_worker_closes_a_case_from_its_page(world, people):
    """The close form on the case page: a missing motive is refused next to its field, then the case closes."""
    case = world.flag()
    steps.diagnose(world, case)
    ts = people.open("ts")
    page = ts.page
    log_in(ts, "ts")
    open_case_from_list(ts, case)
    close = page.get_by_role("button", name="Clore le dossier")
    page.get_by_label(label("Commentaire")).fill("Le ménage a trouvé un logement par ses propres moyens.")
    close.click()
    reason = page.get_by_label(label("Motif de clôture"))
    assert_error_announced(ts, reason)
    check_a11y(ts, "case-detail-close-errors")
    assert fresh(case).is_open
    reason.select_option(label="Désistement du ménage")
    page.get_by_role("button", name="Clore le dossier").click()
    expect(page.get_by_role("status")).to_contain_text("clos")
    case = fresh(case)
    assert not case.is_open
    assert case.closure_reason == choices.ClosureReason.WITHDRAWN
    expect(page.get_by_role("button", name="Clore le dossier")).to_have_count(0)


# --- Keyboard only -------------------------------------------------------------------------------

FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    const label = el.labels && el.labels.length ? el.labels[0].innerText : "";
    return {
        tag: el.tagName.toLowerCase(),
        text: (el.innerText || el.value || "").trim(),
        label: label.trim(),
        id: el.id,
        outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
        shadow: style.boxShadow !== "none",
    };
}"""


def tab_to(session, matches, *, max_presses=80, backwards=False):
    """Press Tab until the focused element matches; check the focus is visible. Returns what has focus."""
    page = session.page
    for _ in range(max_presses):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        focused = page.evaluate(FOCUSED)
        if focused and matches(focused):
            assert focused["outline"] or focused["shadow"], f"no visible focus indicator on {focused}"
            return focused
    raise AssertionError(f"not reachable with the keyboard in {max_presses} presses of Tab")


def text_is(wanted):
    return lambda focused: " ".join(focused["text"].split()) == wanted


def label_is(wanted):
    pattern = label(wanted)
    return lambda focused: bool(pattern.match(focused["label"]))


def test_keyboard_only_login_navigation_and_diagnostic(world, people):
    """Log in, find the case and complete the diagnostic with the keyboard alone (no clicks)."""
    case = world.flag()
    ts = people.open("ts-keyboard")
    page = ts.page
    keyboard = page.keyboard
    page.goto(reverse("login"))

    # The login page puts the focus in its first field.
    assert page.evaluate("() => document.activeElement.id") == "id_username"
    keyboard.type("ts")
    tab_to(ts, label_is("Mot de passe"), max_presses=1)
    keyboard.type(PASSWORD)
    keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Accueil")).to_be_visible()  # the role's home page
    ts.step("keyboard-logged-in")

    tab_to(ts, text_is("Dossiers"))
    keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Dossiers")).to_be_visible()
    # The first Tab on a page reaches the skip link, which moves the focus to the main content.
    tab_to(ts, text_is("Aller au contenu"), max_presses=1)
    keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "contenu"
    tab_to(ts, text_is(case.reference))
    keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name=f"Dossier {case.reference}")).to_be_visible()
    tab_to(ts, text_is("Faire l'étape « Diagnostic social »"))
    keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name=re.compile("Diagnostic social"))).to_be_visible()
    ts.step("keyboard-diagnostic-open")

    tab_to(ts, label_is("Situation familiale"))
    keyboard.type("Couple avec trois enfants, hébergé chez un parent.")
    tab_to(ts, label_is("Ressources mensuelles du ménage (€)"), max_presses=6)  # past the household section
    keyboard.press("Control+A")
    keyboard.type("1875")
    focused = tab_to(ts, label_is("Urgence"))
    keyboard.press("End")  # last choice of the list, as a keyboard user picks in a closed select
    assert page.evaluate("() => document.activeElement.value") == choices.Urgency.CRITICAL
    tab_to(ts, label_is("Synthèse pour la commission"))
    keyboard.type("Suroccupation sévère ; besoin d'un T4.")
    ts.step("keyboard-diagnostic-filled")
    tab_to(ts, text_is("Enregistrer l'étape"))
    keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("enregistrée")
    ts.step("keyboard-diagnostic-saved")

    diagnostic = fresh(case).diagnostic
    assert diagnostic.completed_at is not None
    assert diagnostic.family_situation.startswith("Couple avec trois enfants")
    assert diagnostic.monthly_resources == 1875
    assert diagnostic.urgency == choices.Urgency.CRITICAL
    assert fresh(case).status == choices.CaseStatus.COMMITTEE
    assert focused["tag"] == "select"


def test_social_worker_saves_the_diagnostic_as_a_draft_and_completes_it_later(world, people):
    """A draft keeps what was typed without completing the step; reopening the step shows it; completing
    checks every required field."""
    household = world.household(monthly_wages=1100, monthly_family_benefits=220)
    case = world.flag(household)
    ts = people.open("ts-draft")
    page = ts.page
    log_in(ts, "ts")
    page.goto(reverse("cases:detail", args=[case.pk]))
    do_open_step(ts, "Diagnostic social")
    resources = page.get_by_label(label("Ressources mensuelles du ménage (€)"))
    expect(resources).to_have_value("1\u00a0320,00")  # pre-filled from the flagging, French format
    expect(page.get_by_role("group", name="Les ressources")).to_be_visible()
    page.get_by_label(label("Situation familiale")).fill("Couple, deux enfants, hébergé chez un parent.")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_role("status")).to_contain_text("Brouillon enregistré")
    expect(page.get_by_text(re.compile("Brouillon enregistré le .* par "))).to_be_visible()
    check_a11y(ts, "step-diagnostic-draft")
    assert fresh(case).diagnostic.completed_at is None

    # Later: back to the case, the step reopens with the draft.
    page.goto(reverse("cases:detail", args=[case.pk]))
    do_open_step(ts, "Diagnostic social")
    family = page.get_by_label(label("Situation familiale"))
    expect(family).to_have_value("Couple, deux enfants, hébergé chez un parent.")

    # Completing checks the required fields: the synthesis is missing.
    page.get_by_role("button", name="Enregistrer l'étape").click()
    expect(page.get_by_role("alert")).to_contain_text("Le formulaire contient des erreurs")
    synthesis = page.get_by_label(label("Synthèse pour la commission"))
    assert synthesis.get_attribute("aria-required") == "true"
    check_a11y(ts, "step-diagnostic-errors")
    synthesis.fill("Besoin d'un T4 près de l'école.")
    save_step(ts, "diagnostic-completed-after-draft")
    case = fresh(case)
    assert case.status == choices.CaseStatus.COMMITTEE
    assert case.diagnostic.family_situation.startswith("Couple")

    # The timeline: newest first, filtered by a period code in the URL.
    page.goto(reverse("audit:timeline", args=[case.pk]) + "?periode=7j")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Historique")
    expect(page.get_by_text("« Diagnostic social » : étape terminée")).to_be_visible()
    times = page.locator(".timeline-event time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert times == sorted(times, reverse=True)  # newest first
    check_a11y(ts, "timeline-filtered")


def test_landlord_lands_on_the_home_page_and_opens_a_count(world, people):
    """After login the landlord's home page counts the CALEOL decisions to record; the count leads to the
    filtered case list, which shows that many rows."""
    from tests.factories import HouseholdFactory

    for name in ("Caleol1", "Caleol2"):
        case = steps.label(world, steps.diagnose(world, world.flag(HouseholdFactory(applicant_last_name=name))))
        steps.propose(world, case)
    agent = people.open("bailleur")
    log_in(agent, "bailleur")
    page = agent.page
    expect(page.get_by_role("heading", level=1, name="Accueil")).to_be_visible()
    check_a11y(agent, "landlord-home")
    tile = page.get_by_role("link", name=re.compile("Décisions CALEOL à enregistrer"))
    expect(tile).to_contain_text("2")
    agent.step("home")
    tile.click()
    expect(page.get_by_role("heading", level=1, name="Dossiers")).to_be_visible()
    expect(page).to_have_url(re.compile(r".*etape=caleol.*"))
    expect(page.locator("table caption")).to_have_text("2 dossiers")
    expect(page.locator("table tbody tr")).to_have_count(2)
    expect(page.locator("table tbody")).to_contain_text("CALEOL1")
    agent.step("filtered-list")
