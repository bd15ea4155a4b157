"""Every API error body is French, whatever the client's language, with the product's JSON shape."""

import pytest
from rest_framework.test import APIClient

from tests.workflows import steps

pytestmark = pytest.mark.django_db


def labelled_case(world):
    return steps.label(world, steps.diagnose(world, world.flag()))


def post_raw(partner, path, body, content_type="application/json", **headers):
    return partner.http.post(
        f"/api/v1/{path}", body, content_type=content_type, HTTP_IDEMPOTENCY_KEY="errors-0001", **headers
    )


@pytest.mark.parametrize("language", ["", "en", "en-US,en;q=0.9"])
def test_malformed_json_gets_a_french_400(world, partner, language):
    case = labelled_case(world)
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    response = post_raw(partner, f"cases/{case.pk}/proposal/", '{"dwelling": ', **headers)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("Corps de la requête illisible"), detail
    assert "JSON parse error" not in detail and "Expecting" not in detail
    print(detail)


ENGLISH = (
    "JSON parse error",
    "Method",
    "not allowed",
    "Unsupported media type",
    "Could not satisfy",
    "throttled",
    "This field",
    "credentials",
    "Invalid page",
    "Not found",
    "required",
)


def assert_french(response, status, start):
    assert response.status_code == status, (response.status_code, response.content)
    body = response.json()
    text = str(body)
    assert body["detail"].startswith(start), body
    assert not any(word in text for word in ENGLISH), body
    return body


def test_every_error_kind_is_french_even_for_an_english_client(world, partner):
    case = labelled_case(world)
    en = {"HTTP_ACCEPT_LANGUAGE": "en"}
    assert_french(
        post_raw(partner, f"cases/{case.pk}/proposal/", "dwelling=1", "application/x-www-form-urlencoded", **en),
        415,
        "Type de contenu non pris en charge",
    )
    assert_french(partner.http.delete(f"/api/v1/cases/{case.pk}/", **en), 405, "Méthode DELETE non autorisée")
    assert_french(
        partner.http.get("/api/v1/cases/", HTTP_ACCEPT="text/html", **en), 406, "Format de réponse indisponible"
    )
    body = assert_french(post_raw(partner, f"cases/{case.pk}/proposal/", "{}", **en), 400, "Données invalides")
    assert body["errors"]["dwelling"] == ["Ce champ est obligatoire."]
    assert_french(partner.http.get("/api/v1/cases/", {"page": 99}, **en), 404, "Page non valide")
    assert_french(partner.http.get("/api/v1/cases/987654/", **en), 404, "Dossier introuvable")
    anonymous = APIClient()
    assert_french(anonymous.get("/api/v1/cases/", **en), 401, "Jeton d'authentification requis")
    assert_french(
        anonymous.get("/api/v1/cases/", HTTP_AUTHORIZATION="Bearer wrong", **en), 401, "Jeton invalide ou révoqué"
    )


def test_client_rate_is_throttled_with_a_french_429(world, partner, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "api_client": "3/minute"},
    }
    for _ in range(3):
        assert partner.get("cases/").status_code == 200
    response = partner.get("cases/")
    assert_french(response, 429, "Trop de requêtes : réessayez dans")
    assert int(response["Retry-After"]) > 0


def test_failed_tokens_are_throttled_per_address_even_the_right_one_after(world, partner, settings):
    """Guessing tokens: after 10 wrong ones from one address (per hour), every token from it gets 429."""
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_token_failure"].split("/")[0])
    assert limit <= 10
    guesser = APIClient(REMOTE_ADDR="203.0.113.7")
    for i in range(limit):
        response = guesser.get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer guess-{i}")
        assert response.status_code == 401, i
    response = guesser.get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {partner.token}")
    assert_french(response, 429, "Trop de requêtes")
    assert int(response["Retry-After"]) > 0
    # Another address is not affected; the partner's own calls go on.
    assert partner.get("cases/").status_code == 200
