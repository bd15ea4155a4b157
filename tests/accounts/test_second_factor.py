"""TOTP second factor (django-otp) with recovery codes, for the roles that need it; enrolment and checks
are recorded (accounts.SecurityEvent, with history rows chained by the audit app)."""

import time

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SecurityEvent
from audit.models import AuditEntry
from permissions.roles import Role
from tests.factories import UserFactory, member

INBOX = reverse("workflows:inbox")
ENROL = reverse("accounts:otp_enrol")
VERIFY = reverse("accounts:otp_verify")


@pytest.fixture(autouse=True)
def second_factor_on(settings):
    settings.PPGDID_SECOND_FACTOR = True


def current_code(device: TOTPDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset * device.step
    return f"{totp.token():0{device.digits}d}"


def kinds(user):
    return list(SecurityEvent.objects.filter(user=user).order_by("pk").values_list("kind", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.TERRITORY_ADMIN, Role.AUDITOR, Role.SUPERVISOR, Role.SYSTEM_ADMIN])
def test_sensitive_roles_must_enrol_before_any_page(client, role):
    user = member(role)
    client.force_login(user)
    response = client.get(INBOX)
    assert response.status_code == 302 and response["Location"].startswith(ENROL)


@pytest.mark.django_db
def test_social_worker_is_not_asked(client):
    client.force_login(member(Role.SOCIAL_WORKER))
    assert client.get(INBOX).status_code == 200


@pytest.mark.django_db
def test_django_admin_requires_the_second_factor(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    assert client.get("/admin/")["Location"].startswith(ENROL)


@pytest.mark.django_db
def test_enrolment_then_check_then_recovery_codes_each_used_once(client):
    user = member(Role.SUPERVISOR)
    client.force_login(user)
    page = client.get(f"{ENROL}?next={INBOX}")
    assert page.status_code == 200 and "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)

    wrong = client.post(ENROL, {"code": "000000" if current_code(device) != "000000" else "111111", "next": INBOX})
    assert wrong.status_code == 400 and "Code incorrect" in wrong.content.decode()
    assert client.get(INBOX).status_code == 302  # still not verified
    time.sleep(1.1)  # django-otp throttles: 1 s after one failure (doubling after each)

    done = client.post(ENROL, {"code": current_code(device), "next": INBOX})
    assert done.status_code == 200
    codes = [c.split("</code>")[0] for c in done.content.decode().split("<code>")[1:]]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get(INBOX).status_code == 200
    assert kinds(user) == ["otp_failed", "otp_enrolled"]

    # A new session: the check, not the enrolment. A TOTP code works...
    client.logout()
    client.force_login(user)
    assert client.get(INBOX)["Location"].startswith(VERIFY)
    device.refresh_from_db()
    ok = client.post(VERIFY, {"code": current_code(device, offset=1), "next": INBOX})
    assert ok.status_code == 302 and ok["Location"] == INBOX
    assert client.get(INBOX).status_code == 200

    # ...and so does a recovery code, once.
    client.logout()
    client.force_login(user)
    used = client.post(VERIFY, {"code": codes[0], "next": INBOX})
    assert used.status_code == 302 and client.get(INBOX).status_code == 200
    client.logout()
    client.force_login(user)
    again = client.post(VERIFY, {"code": codes[0], "next": INBOX})
    assert again.status_code == 400 and "Code incorrect" in again.content.decode()
    assert kinds(user) == ["otp_failed", "otp_enrolled", "otp_passed", "recovery_used", "otp_failed"]

    # Every event has its history row, and each history row is in the audit chain.
    history = SecurityEvent.history.model
    history_ids = list(history.objects.filter(user=user).values_list("pk", flat=True))
    assert len(history_ids) == 5
    chained = AuditEntry.objects.filter(source=history._meta.label_lower, source_id__in=[str(i) for i in history_ids])
    assert chained.count() == 5


@pytest.mark.django_db
def test_the_check_page_never_leaks_to_an_open_redirect(client):
    user = member(Role.AUDITOR)
    client.force_login(user)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=user)
    response = client.post(ENROL, {"code": current_code(device), "next": "https://evil.example/"})
    assert 'href="/"' in response.content.decode()
