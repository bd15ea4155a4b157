"""The application import through the partner API (/api/v1/imports/): idempotency key, asynchronous
job (Celery, eager in tests) with a status URL, the upload page's roles, French errors."""

import logging
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from cases.models import Household
from exchanges.models import ImportJob, JobStatus
from permissions.models import Membership
from permissions.roles import Role
from tests.api.conftest import Partner
from tests.factories import LA_SEYNE, TOULON, commune, member

SAMPLES = Path(__file__).with_name("samples")
URL = "/api/v1/imports/applications/"
pytestmark = pytest.mark.django_db

APPLICATION = {
    "NUD": "08324011234500001A",
    "Nom": "Fictif-Martin",
    "Prénom": "Camille",
    "Date de naissance": "17/05/1985",
    "Code INSEE commune": TOULON,
    "Situation de logement": "Hébergé",
    "Salaires mensuels": "1 234,56",
}


def importer(organisation, name="SI partenaire"):
    """An API client whose service user holds the upload page's role (territory administrator)."""
    partner = Partner(organisation, name=name)
    membership = Membership.objects.create(
        user=partner.client_row.user, organisation=organisation, role=Role.TERRITORY_ADMIN
    )
    membership.communes.set([commune(TOULON), commune(LA_SEYNE)])
    return partner


@pytest.fixture
def partner(world):
    return importer(world.landlord)


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """POST a sample file (multipart) or JSON; the job runs when the request's transaction commits."""

    def post(partner, key, sample="registre.csv", json=None, **data):
        with django_capture_on_commit_callbacks(execute=True):
            if json is not None:
                return partner.http.post(URL, json | data, format="json", HTTP_IDEMPOTENCY_KEY=key)
            upload = SimpleUploadedFile(sample, (SAMPLES / sample).read_bytes())
            return partner.http.post(
                URL, {"file": upload, "mapping": "registre@1", **data}, format="multipart", HTTP_IDEMPOTENCY_KEY=key
            )

    return post


def test_file_import_runs_the_job_and_the_status_url_tells_the_result(partner, send):
    response = send(partner, "import-0001", skip_invalid=True)
    assert response.status_code == 202, response.json()
    job = ImportJob.objects.get()
    body = response.json()
    assert body["id"] == job.pk and body["total"] == 3
    assert response["Location"] == body["status_url"] == f"http://testserver/api/v1/imports/{job.pk}/"
    assert job.created_by == partner.client_row.user and job.organisation == partner.client_row.organisation
    assert job.idempotency_key == "import-0001"

    state = partner.http.get(response["Location"]).json()
    assert state["status"] == JobStatus.DONE and state["applied"] is True
    assert state["counts"] == {"lines": 3, "created": 2, "updated": 0, "unchanged": 0, "conflicts": 0, "rejected": 1}
    assert state["progress"] == {"lines": 3, "total": 3}
    assert state["messages"] == [
        {
            "line": 4,
            "item": None,
            "column": "Code INSEE commune",
            "kind": "rejet",
            "message": "commune hors de votre territoire",
        }
    ]
    assert Household.objects.count() == 2
    report = partner.http.get(state["report_url"], HTTP_ACCEPT="application/json")
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    assert "4;Code INSEE commune;rejet;commune hors de votre territoire" in report.content.decode("utf-8-sig")


def test_same_key_twice_gives_the_same_job_and_imports_once(partner, send):
    first = send(partner, "import-0002", skip_invalid=True)
    households = Household.objects.count()
    history = Household.history.count()
    again = send(partner, "import-0002", skip_invalid=True)
    assert first.status_code == again.status_code == 202
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and again["Location"] == first["Location"]
    assert ImportJob.objects.count() == 1
    assert households == 2 and Household.objects.count() == 2 and Household.history.count() == history


def test_same_key_with_another_body_is_refused_in_french(partner, send):
    assert send(partner, "import-0003").status_code == 202
    other_file = send(partner, "import-0003", sample="registre-erreurs.csv")
    other_flag = send(partner, "import-0003", skip_invalid=True)
    for response in (other_file, other_flag):
        assert response.status_code == 422
        assert response.json()["detail"].startswith("Cette clé d'idempotence a déjà servi pour une autre requête")
    assert ImportJob.objects.count() == 1


def test_a_new_key_for_the_same_file_is_a_new_job_that_changes_nothing(partner, send):
    send(partner, "import-0004", skip_invalid=True)
    second = send(partner, "import-0005", skip_invalid=True)
    state = partner.http.get(second["Location"]).json()
    assert ImportJob.objects.count() == 2 and Household.objects.count() == 2
    assert state["counts"]["created"] == 0 and state["counts"]["unchanged"] == 2
    assert state["verdict"].startswith("Aucun changement")


def test_json_applications_are_imported_and_rejections_name_the_item(partner, send):
    bad = APPLICATION | {"NUD": "08324011234500009Z", "Date de naissance": "31/02/1990"}
    response = send(partner, "import-json-01", json={"mapping": "registre", "applications": [APPLICATION, bad]})
    assert response.status_code == 202, response.json()
    state = partner.http.get(response["Location"]).json()
    assert state["status"] == "done" and state["applied"] is False  # all or nothing without skip_invalid
    assert [(m["line"], m["item"], m["column"]) for m in state["messages"]] == [(3, 2, "Date de naissance")]
    assert not Household.objects.exists()

    response = send(partner, "import-json-02", json={"applications": [APPLICATION]})
    assert partner.http.get(response["Location"]).json()["counts"]["created"] == 1
    assert Household.objects.get().nud == APPLICATION["NUD"]


def test_dry_run_writes_nothing(partner, send):
    response = send(partner, "import-dry-01", skip_invalid=True, dry_run=True)
    state = partner.http.get(response["Location"]).json()
    assert state["status"] == "done" and state["counts"]["created"] == 2 and state["applied"] is False
    assert state["dry_run"] is True
    assert not Household.objects.exists() and not Household.history.exists()
    clean = send(partner, "import-dry-02", json={"applications": [APPLICATION], "dry_run": True})
    assert partner.http.get(clean["Location"]).json()["verdict"] == "Simulation : rien n'a été enregistré."
    assert not Household.objects.exists()


def test_another_organisations_job_is_a_404_and_logged(world, partner, send, caplog):
    response = send(partner, "import-0006", skip_invalid=True)
    other = importer(world.other_landlord, name="SI autre")
    job_id = response.json()["id"]
    with caplog.at_level(logging.WARNING, logger="ppgdid.access"):
        for url in (f"/api/v1/imports/{job_id}/", f"/api/v1/imports/{job_id}/report/", "/api/v1/imports/987654/"):
            refused = other.http.get(url)
            assert refused.status_code == 404 and refused.json() == {"detail": "Import introuvable."}
    assert caplog.text.count("access denied") == 3
    assert f"object=import_job:{job_id}" in caplog.text


def test_clients_without_the_import_role_are_refused_and_logged(world, send, caplog):
    landlord = Partner(world.landlord)  # a plain landlord client: landlord agent only
    with caplog.at_level(logging.WARNING, logger="ppgdid.access"):
        response = send(landlord, "import-0007")
        status = landlord.http.get("/api/v1/imports/1/")
    assert response.status_code == status.status_code == 403
    assert "pas habilité aux imports" in response.json()["detail"]
    assert caplog.text.count("access denied") == 2
    assert not ImportJob.objects.exists()


def test_an_ordinary_user_of_the_pages_cannot_use_the_api(world, client):
    admin = member(Role.TERRITORY_ADMIN, communes=[TOULON])
    client.force_login(admin)  # a session is no API credential
    assert client.get("/api/v1/imports/1/").status_code == 401


def test_unauthenticated_requests_get_a_french_401(world):
    anonymous = APIClient()
    for response in (
        anonymous.post(URL, {"applications": [APPLICATION]}, format="json", HTTP_IDEMPOTENCY_KEY="import-0008"),
        anonymous.get("/api/v1/imports/1/"),
    ):
        assert response.status_code == 401
        assert response.json()["detail"].startswith("Jeton d'authentification requis")
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Bearer ppg_faux")
    assert wrong.get("/api/v1/imports/1/").json() == {"detail": "Jeton invalide ou révoqué."}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"bonjour", "Format non pris en charge : fichier .csv ou .xlsx attendu."),
        ("vide.csv", b"", "Le fichier soumis est vide."),
        ("faux.xlsx", b"PK\x03\x04pas un classeur", "Fichier XLSX illisible."),
        ("colonnes.csv", b"NUD;Nom\n08324011234500001A;Fictif\n", "Colonne(s) absente(s) du fichier"),
    ],
)
def test_a_bad_file_gets_a_french_400_and_no_job(partner, name, content, message):
    upload = SimpleUploadedFile(name, content)
    response = partner.http.post(
        URL, {"file": upload, "mapping": "registre@1"}, format="multipart", HTTP_IDEMPOTENCY_KEY="import-bad-01"
    )
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["detail"] == "Données invalides : corrigez les champs indiqués."
    assert body["errors"]["file"][0].startswith(message)
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"applications": [APPLICATION], "mapping": "inconnu"}, "mapping", "Modèle de colonnes inconnu : « inconnu »."),
        ({"applications": [APPLICATION | {"Couleur": "bleu"}]}, "applications", "Colonne(s) inconnue(s)"),
        ({"applications": []}, "applications", None),
        ({"applications": [{"NUD": {"a": 1}}]}, "applications", None),
    ],
)
def test_bad_json_gets_a_french_400(partner, data, field, message):
    response = partner.http.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY="import-bad-02")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    if message:
        assert message in str(response.json()["errors"][field])
    assert not ImportJob.objects.exists()


def test_the_idempotency_key_is_required(partner):
    response = partner.http.post(URL, {"applications": [APPLICATION]}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("En-tête Idempotency-Key obligatoire")
    assert not ImportJob.objects.exists()


def test_the_schema_documents_the_import_endpoints(client):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    post = paths["/api/v1/imports/applications/"]["post"]
    assert set(post["requestBody"]["content"]) == {"multipart/form-data", "application/json"}
    assert "202" in post["responses"]
    assert "/api/v1/imports/{id}/" in paths and "/api/v1/imports/{id}/report/" in paths
