"""The case timeline page: scope, content, visibility, filters, and the read log it feeds."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessLog, Section
from audit.reads import log_read
from cases.audit import acting_as
from tests.workflows import steps
from web.history.timeline import Kind, build_timeline

from .conftest import login

pytestmark = pytest.mark.django_db

# Values that only social workers, supervisors and auditors may read (steps.DIAGNOSTIC, conftest).
HIDDEN_FROM_LANDLORD = [
    "Asthme sévère",  # health
    "Récit détaillé",  # social narrative
    "Parent isolé",  # family situation (narrative)
    "Hébergé chez un ami",  # criterion evidence note (narrative)
    "Ménage hébergé, besoin",  # committee synthesis
]


def url(case, **params):
    base = reverse("audit:timeline", args=[case.pk])
    if params:
        from urllib.parse import urlencode

        base += "?" + urlencode(params, doseq=True)
    return base


def all_pages(client, case) -> str:
    """Every page of the timeline (newest first, a page at a time), one after the other."""
    html, number = "", 1
    while True:
        page = client.get(url(case, page=number)).content.decode()
        html += page
        if 'rel="next"' not in page:
            return html
        number += 1


def test_anonymous_is_sent_to_login(client, world):
    case = world.flag()
    response = client.get(url(case))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_outside_scope_is_404(client, world):
    case = steps.label(world, steps.diagnose(world, world.flag()))
    login(client, world.other_landlord_agent)
    assert client.get(url(case)).status_code == 404
    assert client.get(url(case) + "?kinds=read").status_code == 404


def test_social_worker_sees_steps_and_changes_with_french_labels(client, rehoused, world):
    login(client, world.social_worker)
    assert client.get(url(rehoused)).status_code == 200
    html = all_pages(client, rehoused)
    assert "« Diagnostic social » : étape terminée" in html
    assert "Parcours terminé" in html
    assert "Évaluation sociale détaillée" in html  # verbose_name, not the field name
    assert "Récit détaillé de la situation (confidentiel)." in html
    assert "Nombre de refus" in html
    assert "Motif du refus" in html
    assert "Décision de la commission" in html  # change reason
    # Reads and grants are for auditors.
    assert "Consultations" not in html
    assert "Droit « " not in html


def test_a_change_shows_before_and_after(world):
    case = world.flag()
    with acting_as(world.social_worker, "Correction"):
        case.household.phone = "0699999999"
        case.household.save()
    events = build_timeline(world.social_worker, case, kinds=[Kind.CHANGE])
    change = next(c for e in events for c in e.changes if c.label == "Téléphone" and c.after == "0699999999")
    assert change.before == "0600000000"
    event = next(e for e in events if change in e.changes)
    assert (event.actor, event.reason) == (world.social_worker.get_full_name(), "Correction")


def test_landlord_timeline_never_shows_hidden_categories(client, rehoused, world):
    login(client, world.landlord_agent)
    # Closing ends partner access (issue 15): the rehoused case's timeline is gone for the landlord.
    assert client.get(url(rehoused)).status_code == 404
    case = steps.propose(world, steps.label(world, steps.diagnose(world, world.flag())))
    case = steps.propose(world, steps.refuse(world, steps.allocate(world, case)), world.dwelling2)
    case = steps.accept(world, steps.allocate(world, case))  # waiting for the lease: still followed
    response = client.get(url(case))
    assert response.status_code == 200
    html = response.content.decode()
    for value in HIDDEN_FROM_LANDLORD:
        assert value not in html, value
    assert "santé et autonomie" not in html.lower()
    # What the landlord may see is there: decisions and its own proposals.
    assert "Décision CALEOL : création" in html
    assert "Attribué" in html or "attribu" in html.lower()


def test_the_landlord_check_can_fail(client, rehoused, world):
    """The same page for the referent does contain those values: the landlord test is not vacuous."""
    login(client, world.social_worker)
    html = all_pages(client, rehoused)
    for value in HIDDEN_FROM_LANDLORD:
        assert value in html, value


def test_protected_case_hides_address_and_contact_from_the_landlord(client, world):
    case = world.flag(is_protected=True)
    case = steps.propose(world, steps.label(world, steps.diagnose(world, case)))
    with acting_as(world.social_worker, "Déménagement"):
        case.household.address = "7 impasse Secrète"
        case.household.save()
    login(client, world.landlord_agent)
    html = client.get(url(case)).content.decode()
    assert "7 impasse Secrète" not in html
    assert "12 rue Imaginaire" not in html
    assert "0600000000" not in html
    login(client, world.social_worker)
    assert "7 impasse Secrète" in client.get(url(case)).content.decode()
    # The auditor reads every field of the history, except what protection masks for all but the
    # referent and the supervisors (until a break-the-glass opening).
    login(client, world.auditor)
    html = client.get(url(case)).content.decode()
    assert "7 impasse Secrète" not in html and "0600000000" not in html


def test_auditor_sees_reads_grants_and_chain_status(client, rehoused, world):
    log_read(world.supervisor, rehoused, Section.PROTECTED_CASE, reason="Appel du 115, urgence")
    login(client, world.auditor)
    html = all_pages(client, rehoused)
    assert "Consultation : Dossier protégé (accès exceptionnel)" in html
    assert "Appel du 115, urgence" in html
    assert "Droit « " in html
    assert "Chaîne d&#x27;audit intacte" in html or "Chaîne d'audit intacte" in html
    assert "Asthme sévère" in html


def test_filter_by_kind_and_date(world):
    case = steps.diagnose(world, world.flag())
    only_steps = build_timeline(world.social_worker, case, kinds=[Kind.STEP])
    assert only_steps and {e.kind for e in only_steps} == {Kind.STEP}
    today = timezone.localdate()
    assert build_timeline(world.social_worker, case, date_to=today - timedelta(days=1)) == []
    assert build_timeline(world.social_worker, case, date_from=today + timedelta(days=1)) == []
    assert build_timeline(world.social_worker, case, date_from=today, date_to=today)


def test_filter_form_on_the_page(client, world):
    case = steps.diagnose(world, world.flag())
    login(client, world.social_worker)
    html = client.get(url(case, kinds=["step"])).content.decode()
    assert "étape terminée" in html and "Évaluation sociale détaillée" not in html
    # A reader cannot ask for auditor-only kinds.
    response = client.get(url(case, kinds=["read"]))
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()


def test_bad_dates_give_a_french_error_not_a_500(client, world):
    case = world.flag()
    login(client, world.social_worker)
    response = client.get(url(case, date_from="2026-12-01", date_to="2026-01-01"))
    assert response.status_code == 200
    assert "La date de fin doit être postérieure" in response.content.decode()
    response = client.get(url(case, date_from="pas une date"))
    assert response.status_code == 200
    assert "Saisissez une date valide" in response.content.decode()


def test_opening_the_history_is_a_logged_read(client, world):
    case = world.flag()
    login(client, world.social_worker)
    client.get(url(case))
    assert AccessLog.objects.filter(case=case, user=world.social_worker, section=Section.HISTORY).count() == 1
    login(client, world.auditor)
    client.get(url(case))
    assert AccessLog.objects.filter(case=case, user=world.auditor, section=Section.HISTORY).count() == 1


def _move(world, case, address):
    with acting_as(world.social_worker, "Nouvelle adresse"):
        household = case.household
        household.address = address
        household.save()


# auditor: 65 since the written procedure (committees.WrittenProcedure, tied to the case) joined the timeline.
# auditor: 67 since the privacy app's case records (legal holds, anonymisations, art. 15 exports) joined it;
# 68 since the reception's history models tied to a case (pre-flag, household access code) joined it;
# 70 since the steering's allocation records joined it; 73 since case notes, step handovers and documents
# joined it; 74 (and 33 for the social worker) since the State tool's results (exchanges.PoolResult) did. One
# query per history model tied to a case: the
# timeline's cost grows with the apps, not with the history (issue 17).
@pytest.mark.parametrize(("who", "queries"), [("social_worker", 33), ("auditor", 74)])
def test_timeline_queries_do_not_grow_with_the_history(
    client, world, rehoused, who, queries, django_assert_max_num_queries
):
    """History rows, their lists of communes, the objects they name and the auditor's chain check are
    read in batches: more reads and changes of the same kinds cost no more queries."""
    login(client, getattr(world, who))
    _move(world, rehoused, "1 rue des Tests")
    assert client.get(url(rehoused)).status_code == 200
    with django_assert_max_num_queries(queries) as before:
        assert client.get(url(rehoused)).status_code == 200
    for _ in range(5):
        log_read(world.supervisor, rehoused, Section.NARRATIVE)
    _move(world, rehoused, "3 rue des Tests")
    with django_assert_max_num_queries(len(before.captured_queries)):
        assert client.get(url(rehoused)).status_code == 200
