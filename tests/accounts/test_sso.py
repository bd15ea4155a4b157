"""Single sign-on against a real OpenID Connect provider (tests/accounts/conftest.py): the provider's
verified e-mail matches one active local account, case-insensitively; nothing is ever created."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import SecurityEvent
from cases.audit import system_actor
from permissions.models import Membership
from permissions.roles import Role
from tests.factories import UserFactory, member

User = get_user_model()


def signed_in_user(client):
    response = client.get(reverse("notifications:centre"))
    return response.wsgi_request.user


@pytest.mark.django_db
def test_sso_signs_in_the_existing_account_matched_by_email_case_insensitively(sso, client):
    agent = member(Role.SOCIAL_WORKER, username="c.agent", email="camille.agent@example.org")
    memberships = list(Membership.objects.filter(user=agent).values_list("pk", "role", "is_active"))
    users_before = User.objects.count()

    response = sso.login(client, "camille", "pw-camille")

    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert signed_in_user(client) == agent
    assert User.objects.count() == users_before  # nobody created
    assert list(Membership.objects.filter(user=agent).values_list("pk", "role", "is_active")) == memberships
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SSO_LOGIN)
    assert event.user == agent and event.history.count() == 1


@pytest.mark.django_db
def test_sso_never_creates_an_account_for_an_unknown_address(sso, client, caplog):
    system_actor()  # signs the refusal's history row: exists in every installed database
    users_before = User.objects.count()
    response = sso.login(client, "inconnu", "pw-inconnu")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?sso=refuse"
    assert User.objects.count() == users_before
    assert not signed_in_user(client).is_authenticated
    refused = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SSO_REFUSED)
    assert refused.user is None and refused.detail.startswith("no active account")
    assert "personne@example.org" not in caplog.text and "personne@example.org" not in refused.detail
    page = client.get(response["Location"])
    assert "aucun compte actif ne correspond" in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who, setup, reason",
    [
        ("unverified", lambda: UserFactory(username="nv", email="non.verifie@example.org"), "unverified e-mail"),
        (
            "double",
            lambda: (
                UserFactory(username="d1", email="double@example.org"),
                UserFactory(username="d2", email="DOUBLE@example.org"),
            ),
            "several accounts",
        ),
        (
            "ancien",
            lambda: UserFactory(username="old", email="ancien@example.org", is_active=False),
            "no active account",
        ),
    ],
)
def test_sso_refuses_unverified_ambiguous_or_inactive(sso, client, who, setup, reason):
    setup()
    response = sso.login(client, who, f"pw-{who}")
    assert response["Location"] == "/accounts/login/?sso=refuse"
    assert not signed_in_user(client).is_authenticated
    assert SecurityEvent.objects.get(kind=SecurityEvent.Kind.SSO_REFUSED).detail.startswith(reason)


@pytest.mark.django_db
def test_local_password_login_can_be_switched_off_while_sso_still_works(sso, client, settings):
    agent = member(Role.SOCIAL_WORKER, username="c.agent", email="camille.agent@example.org")
    settings.PPGDID_LOCAL_LOGIN = False
    page = client.get(reverse("login")).content.decode()
    assert "S'identifier avec ProConnect" in page and 'name="password"' not in page
    response = client.post(reverse("login"), {"username": "c.agent", "password": "motdepasse-test-1"}, follow=True)
    assert not response.wsgi_request.user.is_authenticated
    assert "La connexion par mot de passe est désactivée" in response.content.decode()
    # The admin's own login form goes through the same backends: refused too.
    staff = UserFactory(username="staff", is_staff=True, is_superuser=True)
    admin = client.post("/admin/login/", {"username": staff.username, "password": "motdepasse-test-1"})
    assert admin.status_code == 200 and not admin.wsgi_request.user.is_authenticated

    sso.login(client, "camille", "pw-camille")
    assert signed_in_user(client) == agent


@pytest.mark.django_db
def test_local_password_login_works_by_default_with_both_offered(sso, client):
    member(Role.SOCIAL_WORKER, username="c.agent")
    page = client.get(reverse("login")).content.decode()
    assert "S'identifier avec ProConnect" in page and 'name="password"' in page
    client.post(reverse("login"), {"username": "c.agent", "password": "motdepasse-test-1"})
    assert signed_in_user(client).username == "c.agent"


@pytest.mark.django_db
def test_sso_button_is_hidden_when_no_provider_is_configured(client):
    assert "ProConnect" not in client.get(reverse("login")).content.decode()
