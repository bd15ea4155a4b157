"""Documents and letters in the browser: a social worker uploads a paper (a disguised file is refused first)
and generates the offer letter, which downloads as a PDF whose text pypdf reads; a territory admin adapts the
letter's text."""

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from cases import deadlines as legal
from documents.models import Document
from permissions.roles import Role
from tests.factories import TOULON, DwellingFactory, member
from tests.workflows import steps

from .support import check_a11y, expect
from .test_journeys import label, log_in

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_social_worker_uploads_a_document_and_generates_the_offer_letter(world, people, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    dwelling = DwellingFactory(landlord=world.landlord, rent=Decimal("1200"), charges=Decimal("120"))
    case = steps.label(world, steps.diagnose(world, world.flag(is_dalo=True)))
    case = steps.propose(world, case, dwelling=dwelling, notified_on=timezone.localdate())
    due = legal.reply_due(case.proposals.get())

    ts = people.open("ts")
    page = ts.page
    log_in(ts, "ts")
    page.goto(reverse("cases:detail", args=[case.pk]))
    panel = page.get_by_role("region", name="Documents et courriers")
    expect(panel).to_contain_text("Avis d'imposition")
    expect(panel).to_contain_text("Manquante")
    panel.get_by_role("link", name="Ajouter un document ou générer un courrier").click()
    expect(page.get_by_role("heading", level=1, name=f"Documents du dossier {case.reference}")).to_be_visible()
    check_a11y(ts, "documents:case")

    # A program renamed .pdf: refused by its content, in French, nothing stored.
    page.get_by_label(label("Type de document")).select_option(label="Avis d'imposition")
    page.get_by_label(label("Fichier")).set_input_files(
        {"name": "avis.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00not a pdf at all"}
    )
    page.get_by_role("button", name="Déposer le document").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("#id_piece-file_error")).to_contain_text("ni un PDF")
    check_a11y(ts, "documents:upload-errors")
    assert not Document.objects.exists()
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.*"))

    page.get_by_label(label("Type de document")).select_option(label="Avis d'imposition")
    page.get_by_label(label("Fichier")).set_input_files(
        {"name": "avis 2025.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="Déposer le document").click()
    expect(page.get_by_role("status")).to_contain_text("Document enregistré")
    ts.step("uploaded")
    uploaded = page.get_by_role("table", name="Documents déposés")
    expect(uploaded).to_contain_text("Avis d'imposition")
    with page.expect_download() as download_info:
        uploaded.get_by_role("link", name=re.compile("^Télécharger")).click()
    assert Path(download_info.value.path()).read_bytes() == PDF

    page.get_by_label(label("Courrier")).select_option(label="Courrier de proposition de logement")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Générer le courrier (PDF)").click()
    assert download_info.value.suggested_filename == f"offer-letter-{case.reference}.pdf"
    reader = PdfReader(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).replace("\u00a0", " ").split())
    assert f"au plus tard le {due:%d/%m/%Y}" in text
    assert "1 320,00 €" in text and "perdre le bénéfice du DALO" in text
    ts.step("letter-downloaded")

    page.goto(reverse("cases:detail", args=[case.pk]))
    expect(page.get_by_role("table", name="Courriers générés")).to_contain_text("Courrier de proposition de logement")
    check_a11y(ts, "case-with-documents")


def test_territory_admin_adapts_a_letter(world, people):
    member(Role.TERRITORY_ADMIN, world.state, communes=[TOULON], username="admin-var")
    admin = people.open("admin")
    page = admin.page
    log_in(admin, "admin-var")
    page.goto(reverse("documents:templates"))
    check_a11y(admin, "documents:templates")
    page.get_by_role("link", name="Modifier – Courrier de rappel avant la date limite de réponse (83)").click()
    check_a11y(admin, "documents:template-edit")
    page.get_by_label(label("Texte")).fill("Bonjour {nom}, {date_butoir}.")
    page.get_by_role("button", name="Enregistrer le modèle").click()
    expect(page.get_by_role("alert")).to_contain_text("Champ inconnu : {date_butoir}")
    check_a11y(admin, "documents:template-edit-errors")
    page.get_by_label(label("Texte")).fill("Bonjour {nom},\n\nRépondez au plus tard le {date_limite}.")
    page.get_by_role("button", name="Enregistrer le modèle").click()
    expect(page.get_by_role("status")).to_contain_text("Modèle de courrier enregistré")
    expect(page.get_by_role("table")).to_contain_text("Adapté le")
