"""Letters to the household: the offer, the reminder, the letter after a refusal, from the territory's text."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from cases import deadlines as legal
from documents.kinds import DocumentKind as K
from documents.letters import euros
from documents.models import Document, LetterTemplate
from permissions.roles import Role
from tests.factories import NANTES, TOULON, DwellingFactory, member
from tests.workflows import steps

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def offered(world, *, is_dalo=False, notified_on=None):
    """A labelled case with one offer of a 1 200 € + 120 € dwelling, notified on `notified_on` (today)."""
    dwelling = DwellingFactory(landlord=world.landlord, rent=Decimal("1200"), charges=Decimal("120"))
    case = steps.label(world, steps.diagnose(world, world.flag(is_dalo=is_dalo)))
    return steps.propose(world, case, dwelling=dwelling, notified_on=notified_on or timezone.localdate())


def generate(client, case, kind):
    return client.post(reverse("documents:letter", args=[case.pk]), {"courrier-kind": kind})


def pdf_text(client, response) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    download = client.get(response["Location"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    data = b"".join(download.streaming_content)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.replace("\u00a0", " ").split())


def test_french_money():
    assert euros(Decimal("1320")) == "1\u00a0320,00\u00a0€"


def test_offer_letter_takes_its_deadline_from_the_legal_rule_and_is_recorded(client, world):
    case = offered(world)
    proposal = case.proposals.get()
    client.force_login(world.social_worker)
    text = pdf_text(client, generate(client, case, K.OFFER_LETTER))
    due = legal.reply_due(proposal)
    assert due is not None
    assert f"au plus tard le {due:%d/%m/%Y}" in text
    assert "1 200,00 €" in text and "120,00 €" in text and "1 320,00 €" in text
    assert case.reference in text
    assert "DALO" not in text
    letter = Document.objects.get(case=case)
    assert letter.kind == K.OFFER_LETTER and letter.proposal == proposal and letter.created_by == world.social_worker
    assert letter.history.get().history_change_reason.startswith("Courrier généré")
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Courriers générés" in page and "Courrier de proposition de logement" in page


def test_dalo_household_is_told_the_consequences_of_a_refusal(client, world):
    case = offered(world, is_dalo=True)
    client.force_login(world.social_worker)
    text = pdf_text(client, generate(client, case, K.OFFER_LETTER))
    assert "perdre le bénéfice du DALO" in text


def test_reminder_only_before_the_deadline(client, world):
    client.force_login(world.social_worker)
    late = offered(world, notified_on=timezone.localdate().replace(year=2025))
    response = generate(client, late, K.REMINDER_LETTER)
    assert response.status_code == 200
    assert "est passée : le rappel n&#x27;a plus lieu d&#x27;être" in response.content.decode()
    assert not Document.objects.exists()


def test_reminder_before_the_deadline(client, world):
    case = offered(world)
    client.force_login(world.social_worker)
    text = pdf_text(client, generate(client, case, K.REMINDER_LETTER))
    assert "Rappel" in text and "au plus tard le" in text


def test_refusal_letter_needs_a_refusal(client, world):
    case = offered(world, is_dalo=True, notified_on=timezone.localdate().replace(year=2026, month=11, day=2))
    client.force_login(world.social_worker)
    response = generate(client, case, K.REFUSAL_LETTER)
    assert "Aucun refus n&#x27;est enregistré" in response.content.decode()
    case = steps.refuse(world, steps.allocate(world, case))
    text = pdf_text(client, generate(client, case, K.REFUSAL_LETTER))
    assert "votre refus du logement" in text and "15/11/2026" in text
    assert "Votre refus va être examiné" in text


def test_only_who_changes_the_case_generates_letters(client, world):
    case = offered(world)
    for user in (world.landlord_agent, world.commission, world.auditor):
        client.force_login(user)
        assert generate(client, case, K.OFFER_LETTER).status_code == 404
    assert not Document.objects.exists()


def test_territory_admin_edits_the_departement_text(client, world):
    admin = member(Role.TERRITORY_ADMIN, world.state, communes=[TOULON], username="admin-var")
    client.force_login(admin)
    url = reverse("documents:template_edit", args=["83", K.OFFER_LETTER])
    page = client.get(url).content.decode()
    assert "{date_limite}" in page  # the default text, ready to adapt, and the placeholders explained

    response = client.post(url, {"subject": "Offre {reference}", "body": "Bonjour {nom}, {inconnu}."})
    assert response.status_code == 200
    assert "Champ inconnu : {inconnu}" in response.content.decode()
    response = client.post(url, {"subject": "Offre {reference", "body": "Bonjour"})
    assert "Accolade sans sa paire" in response.content.decode()
    assert not LetterTemplate.objects.exists()

    body = "Bonjour {nom},\n\nLogement du Var : {logement}, réponse au plus tard le {date_limite}."
    assert client.post(url, {"subject": "Offre varoise {reference}", "body": body}).status_code == 302
    template = LetterTemplate.objects.get()
    assert template.history.count() == 1 and template.updated_by == admin

    case = offered(world)
    client.force_login(world.social_worker)
    text = pdf_text(client, generate(client, case, K.OFFER_LETTER))
    assert "Logement du Var" in text and f"Offre varoise {case.reference}" in text

    nantes = member(Role.TERRITORY_ADMIN, world.state, communes=[NANTES], username="admin-loire")
    client.force_login(nantes)
    assert client.get(url).status_code == 404
    assert client.post(url, {"subject": "x", "body": "y"}).status_code == 404
    assert client.get(reverse("documents:templates")).status_code == 200
    client.force_login(world.social_worker)
    assert client.get(reverse("documents:templates")).status_code == 404
