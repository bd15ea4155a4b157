"""Login protection: lockout after 5 failures per username + address (django-axes), French lockout page,
lockouts logged without personal data, 8-hour inactive sessions, and "Mot de passe oublié ?"."""

import logging
import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Bon-mot-de-passe-2026"
ADDRESS = "198.51.100.23"


@pytest.fixture
def agent():
    user = UserFactory(username="camille.martin", email="camille.martin@example.org")
    user.set_password(PASSWORD)
    user.save()
    return user


def attempt(client, username, password, address=ADDRESS):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_five_failures_lock_the_account_from_that_address_even_with_the_right_password(client, agent):
    for _ in range(4):
        response = attempt(client, agent.username, "wrong")
        assert response.status_code == 200 and "Identifiant ou mot de passe incorrect" in response.content.decode()
    locked = attempt(client, agent.username, "wrong")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Connexion temporairement bloquée" in page and "15 minutes" in page and "5 tentatives" in page
    right = attempt(client, agent.username, PASSWORD)
    assert right.status_code == 429 and not logged_in(client)


def test_lockout_is_per_username_and_address(client, agent):
    for _ in range(5):
        attempt(client, agent.username, "wrong")
    assert attempt(client, agent.username, PASSWORD).status_code == 429
    # The same account from another address, and another account from the same address, still log in.
    assert attempt(client, agent.username, PASSWORD, address="192.0.2.10").status_code == 302
    client.logout()
    other = UserFactory()
    other.set_password(PASSWORD)
    other.save()
    assert attempt(client, other.username, PASSWORD).status_code == 302


def test_lockout_ends_after_15_minutes(client, agent):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            attempt(client, agent.username, "wrong")
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert attempt(client, agent.username, PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=15, seconds=5), tick=False):
        assert attempt(client, agent.username, PASSWORD).status_code == 302
        assert logged_in(client)


def test_a_success_resets_the_count(client, agent):
    for _ in range(4):
        attempt(client, agent.username, "wrong")
    assert attempt(client, agent.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert attempt(client, agent.username, "wrong").status_code == 200
    assert attempt(client, agent.username, PASSWORD).status_code == 302


def test_lockout_is_logged_without_personal_data(client, agent, caplog):
    caplog.set_level(logging.DEBUG)
    for _ in range(5):
        attempt(client, agent.username, "wrong-secret-xyz")
    lines = [record.getMessage() for record in caplog.records]
    lockouts = [r for r in caplog.records if r.name == "ppgdid.security.login" and "locked out" in r.getMessage()]
    assert len(lockouts) == 1
    assert f"user_id={agent.pk}" in lockouts[0].getMessage()
    assert "198.51.100.0/24" in lockouts[0].getMessage()
    everything = "\n".join(lines)
    assert agent.username not in everything
    assert "wrong-secret-xyz" not in everything
    assert ADDRESS not in everything


def test_unknown_username_is_logged_as_a_hash(client, caplog):
    caplog.set_level(logging.DEBUG)
    for _ in range(5):
        attempt(client, "nobody.here", "x")
    lockout = next(r.getMessage() for r in caplog.records if r.name == "ppgdid.security.login")
    assert re.search(r"account=[0-9a-f]{12}", lockout) and "nobody.here" not in lockout


def test_sessions_end_after_8_hours_without_activity(client, agent):
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert attempt(client, agent.username, PASSWORD).status_code == 302
    # Activity every 7 hours keeps the session open (each request pushes the expiry back)...
    for hours in (7, 14):
        with time_machine.travel(start + timedelta(hours=hours), tick=False):
            assert client.get(reverse("password_reset_done")).status_code == 200
            assert logged_in(client), hours
    # ...8 hours without a request end it.
    with time_machine.travel(start + timedelta(hours=22, minutes=1), tick=False):
        client.get(reverse("password_reset_done"))
        assert not logged_in(client)


def test_forgotten_password_flow_in_french(client, agent):
    login_page = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in login_page and "Mot de passe oublié ?" in login_page

    form = client.get(reverse("password_reset"))
    assert "Mot de passe oublié" in form.content.decode() and 'lang="fr"' in form.content.decode()
    sent = client.post(reverse("password_reset"), {"email": agent.email})
    assert sent.status_code == 302 and sent["Location"] == reverse("password_reset_done")
    assert "Vérifiez votre messagerie" in client.get(sent["Location"]).content.decode()

    (message,) = mail.outbox
    assert message.to == [agent.email] and "nouveau mot de passe" in message.subject
    link = re.search(r"https?://[^/\s]+(/accounts/mot-de-passe/\S+/\S+/)", message.body)[1]
    confirm = client.get(link, follow=True)
    assert "Choisir un nouveau mot de passe" in confirm.content.decode()
    set_url = confirm.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "Nouveau-secret-2027", "new_password2": "Nouveau-secret-2027"})
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    assert "Mot de passe modifié" in client.get(done["Location"]).content.decode()
    assert attempt(client, agent.username, "Nouveau-secret-2027").status_code == 302

    # The link works once.
    client.logout()
    again = client.get(link, follow=True).content.decode()
    assert "Ce lien n'est plus valable" in again


def test_unknown_email_gives_the_same_answer_and_sends_nothing(client, agent):
    response = client.post(reverse("password_reset"), {"email": "personne@example.org"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_behind_a_proxy_the_client_address_counts(client, agent, settings):
    settings.PPGDID_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for _ in range(5):
        client.post(
            reverse("login"),
            {"username": agent.username, "password": "wrong"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR="203.0.113.50",
        )
    blocked = client.post(
        reverse("login"),
        {"username": agent.username, "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="203.0.113.50",
    )
    assert blocked.status_code == 429
    other = client.post(
        reverse("login"),
        {"username": agent.username, "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="198.51.100.99",
    )
    assert other.status_code == 302
