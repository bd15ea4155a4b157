"""Documents of a case: the content check, storage, the matrix on downloads, the checklist, anonymisation."""

from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AccessLog, AuditEntry, Section
from cases.events import case_anonymised
from documents import services
from documents.kinds import DocumentKind as K
from documents.models import Document
from documents.selectors import case_panel
from permissions.roles import Role
from permissions.visibility import case_access
from tests.factories import member
from tests.responses import close_response
from tests.workflows import steps

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


def stored_files(media) -> list:
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


def upload(name, data):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


@pytest.mark.parametrize(
    ("name", "data", "extension"), [("a.pdf", PDF, "pdf"), ("b.png", PNG, "png"), ("c.jpg", JPEG, "jpg")]
)
def test_accepted_formats_are_stored_under_a_neutral_name(world, media, name, data, extension):
    case = world.flag()
    document = services.document_upload(
        actor=world.social_worker, case=case, kind=K.TAX_NOTICE, upload=upload(name, data)
    )
    assert document.file.name.startswith(f"documents/{case.pk}/") and document.file.name.endswith(f".{extension}")
    assert [p.read_bytes() for p in stored_files(media)] == [data]
    assert document.history.count() == 1
    assert AuditEntry.objects.filter(case_id=case.pk, source="documents.historicaldocument").exists()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("vide.pdf", b"", "vide"),
        ("script.pdf", b"MZ\x90\x00 this is an executable", "ni un PDF"),
        ("page.png", b"<html><body>hello</body></html>", "ni un PDF"),
        ("gros.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "10 Mo"),
    ],
)
def test_bad_files_get_a_french_message_and_nothing_is_stored(client, world, media, name, data, message):
    case = world.flag()
    client.force_login(world.social_worker)
    response = client.post(
        reverse("documents:upload", args=[case.pk]), {"piece-kind": K.TAX_NOTICE, "piece-file": upload(name, data)}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Document.objects.exists()
    assert stored_files(media) == []


def test_upload_needs_write_on_the_category(world, media):
    case = steps.label(world, steps.diagnose(world, world.flag()))
    # The designated landlord writes proposals and decisions (the CALEOL file), not the household's resources.
    services.document_upload(actor=world.landlord_agent, case=case, kind=K.CALEOL_FILE, upload=upload("a.pdf", PDF))
    with pytest.raises(PermissionDenied):
        services.document_upload(actor=world.landlord_agent, case=case, kind=K.TAX_NOTICE, upload=upload("b.pdf", PDF))
    assert len(stored_files(media)) == 1


def test_upload_page_then_download_as_an_attachment_logged_as_a_read(client, world, media):
    case = world.flag()
    client.force_login(world.social_worker)
    response = client.post(
        reverse("documents:upload", args=[case.pk]),
        {"piece-kind": K.IDENTITY, "piece-file": upload("passeport DUPONT.pdf", PDF)},
    )
    assert response.status_code == 302
    document = Document.objects.get()
    response = client.get(reverse("documents:download", args=[document.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "DUPONT" not in response["Content-Disposition"]
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    assert AccessLog.objects.filter(case=case, user=world.social_worker, section=Section.DOCUMENT).count() == 1


def test_downloads_follow_the_visibility_matrix(client, world, media):
    case = steps.label(world, steps.diagnose(world, world.flag()))
    identity = services.document_upload(
        actor=world.social_worker, case=case, kind=K.IDENTITY, upload=upload("a.pdf", PDF)
    )
    tax = services.document_upload(actor=world.social_worker, case=case, kind=K.TAX_NOTICE, upload=upload("b.pdf", PDF))
    other = services.document_upload(actor=world.social_worker, case=case, kind=K.OTHER, upload=upload("c.pdf", PDF))
    reservataire = member(Role.RESERVATAIRE_AGENT, world.reservataire, username="resa")
    expected = {
        # landlord: identity R, resources R, narrative hidden
        world.landlord_agent: {identity: 200, tax: 200, other: 404},
        # réservataire: resources "summary only": no paper
        reservataire: {identity: 200, tax: 404, other: 404},
        world.supervisor: {identity: 200, tax: 200, other: 200},
        world.other_landlord_agent: {identity: 404, tax: 404, other: 404},  # case outside its scope
    }
    for user, by_document in expected.items():
        client.force_login(user)
        for document, status in by_document.items():
            response = client.get(reverse("documents:download", args=[document.pk]))
            close_response(response)  # a served file stays open until the response is closed
            got = response.status_code
            assert got == status, (user.username, document.kind, got)
    assert (
        not AccessLog.objects.filter(user=reservataire, section=Section.DOCUMENT, case=case)
        .exclude(user=reservataire)
        .exists()
    )
    assert AccessLog.objects.filter(user=reservataire, section=Section.DOCUMENT).count() == 1


def test_checklist_lists_what_the_steps_need(world, media):
    case = world.flag(is_dalo=True)
    access = case_access(world.social_worker, case)
    panel = case_panel(world.social_worker, case, access)
    assert [present for _label, present in panel.checklist] == [False, False, False]
    services.document_upload(actor=world.social_worker, case=case, kind=K.IDENTITY, upload=upload("a.pdf", PDF))
    case = steps.diagnose(world, case)  # committee step: a DALO household's COMED decision is needed
    panel = case_panel(world.social_worker, case, case_access(world.social_worker, case))
    labels = dict(panel.checklist)
    assert labels[K.IDENTITY.label] is True
    assert labels[K.COMED_DECISION.label] is False
    assert panel.missing == 3


def test_case_page_panel_costs_at_most_two_queries(client, world, media):
    case = world.flag()
    for kind in (K.IDENTITY, K.TAX_NOTICE, K.PAYSLIPS, K.OTHER):
        services.document_upload(actor=world.social_worker, case=case, kind=kind, upload=upload("a.pdf", PDF))
    access = case_access(world.social_worker, case)
    with CaptureQueriesContext(connection) as queries:
        panel = case_panel(world.social_worker, case, access)
        html = render_to_string("documents/_case_panel.html", {"documents": panel})
    print(f"case page documents panel: {len(queries)} queries for 4 documents")
    assert len(queries) <= 2
    assert "Avis d&#x27;imposition" in html
    client.force_login(world.social_worker)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Documents et courriers" in page and reverse("documents:case", args=[case.pk]) in page


def test_anonymisation_deletes_the_files_on_commit_and_keeps_the_rows(world, media, django_capture_on_commit_callbacks):
    case = world.flag()
    services.document_upload(actor=world.social_worker, case=case, kind=K.IDENTITY, upload=upload("a.pdf", PDF))
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=False) as rolled_back:
        with transaction.atomic():
            case_anonymised.send(sender=None, case=case, rule="identité, 24 mois")
            raise RuntimeError("the anonymisation rolls back")
    assert rolled_back == []  # a rollback drops the deletion
    assert len(stored_files(media)) == 1 and Document.objects.get().file

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            case_anonymised.send(sender=None, case=case, rule="identité, 24 mois")
            assert len(stored_files(media)) == 1  # still there until the commit
    assert len(callbacks) == 1
    document = Document.objects.get()
    assert stored_files(media) == []
    assert document.kind == K.IDENTITY and not document.file and document.file_deleted_at is not None
    assert document.history.first().file == ""
    assert AuditEntry.objects.filter(case_id=case.pk, source="documents.historicaldocument").count() == 2


def test_bad_kind_and_missing_file_messages(client, world, media):
    case = world.flag()
    client.force_login(world.social_worker)
    response = client.post(reverse("documents:upload", args=[case.pk]), {"piece-kind": "virus"})
    text = response.content.decode()
    assert response.status_code == 200
    assert "Choisissez un type de document de la liste." in text and "Choisissez un fichier." in text
    assert stored_files(media) == [] and not Document.objects.exists()
