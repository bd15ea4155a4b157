"""The product's own French error pages, and a demo server (bin/serve) that runs with DEBUG off."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views import defaults

from tests.factories import member

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
DJANGO_DEBUG_PAGE = ("Using the URLconf", "Traceback", "Django tried these URL patterns", "DEBUG = True")


def product_page(response, title):
    page = response.content.decode()
    assert '<html lang="fr">' in page and "Ménages prioritaires" in page, page[:300]
    assert title in page, page[:600]
    assert not any(marker in page for marker in DJANGO_DEBUG_PAGE)
    return page


def test_the_demo_settings_run_with_debug_off_and_whitenoise():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_DEBUG"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    # WhiteNoise right after SecurityMiddleware (django-prometheus's timer comes first of all).
    code = (
        "from django.conf import settings; m = settings.MIDDLEWARE; "
        "print(settings.DEBUG, m[m.index('django.middleware.security.SecurityMiddleware') + 1], settings.ALLOWED_HOSTS)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split(" ", 2) == [
        "False",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "['127.0.0.1', 'localhost']\n",
    ]
    serve = (ROOT / "bin" / "serve").read_text()
    assert "collectstatic --noinput" in serve and "DJANGO_DEBUG" not in serve


def test_static_files_are_served_with_debug_off(client, settings):
    assert settings.DEBUG is False
    response = client.get("/static/css/app.css")
    assert response.status_code == 200 and b"--blue" in b"".join(response.streaming_content)


def test_out_of_scope_case_shows_the_french_404(client, world):
    case = world.flag()
    client.force_login(world.landlord_agent)
    response = client.get(reverse("cases:detail", args=[case.pk]))
    assert response.status_code == 404
    product_page(response, "Page introuvable")
    assert client.get("/nulle-part/").status_code == 404


def test_page_not_for_the_role_shows_the_french_403(client, world):
    client.force_login(member("social_worker"))
    response = client.get(reverse("permissions:membership_list"))
    assert response.status_code == 403
    product_page(response, "Accès refusé")


def test_expired_form_shows_the_french_csrf_403(world):
    response = Client(enforce_csrf_checks=True).post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    product_page(response, "Formulaire expiré")


def test_bad_request_shows_the_french_400(client):
    response = client.get("/", HTTP_HOST="intrus.example")  # a host outside ALLOWED_HOSTS
    assert response.status_code == 400
    product_page(response, "Demande incorrecte")


def test_server_error_page_is_french_and_self_contained():
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    product_page(response, "Erreur du serveur")
