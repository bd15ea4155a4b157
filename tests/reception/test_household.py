"""The household's own view: access code + one-time code, no enumeration, rate limits, read log,
nothing the household must not read, another household's file = 404."""

import re

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from audit.models import AccessLog, Section
from reception import services
from reception.models import HouseholdAccess
from tests.factories import HouseholdFactory
from tests.workflows import steps

pytestmark = pytest.mark.django_db

SENTINELS = {
    "violence_facts": "SENTINELLE-VIOLENCE-1901",
    "health_autonomy": "SENTINELLE-SANTE-1902",
    "social_narrative": "SENTINELLE-RECIT-1903",
    "family_situation": "SENTINELLE-FAMILLE-1904",
}


@pytest.fixture
def offered(net):
    """A case waiting for the household's reply to an offer, with sensitive text in its diagnostic."""
    world = net.world
    case = world.flag(HouseholdFactory(address="SENTINELLE-ADRESSE-1905"))
    from workflows import services as wf

    case = wf.diagnostic_complete(actor=world.social_worker, case=case, values={**steps.DIAGNOSTIC, **SENTINELS})
    case = steps.allocate(world, steps.propose(world, steps.label(world, case)))
    return case


def issue(net, case, channel="email", destination="menage@example.org"):
    return services.access_issue(
        actor=net.world.social_worker, case=case, holder="", channel=channel, destination=destination, desk=net.desk
    )


def sign_in(client, reference, code, *, otp=None):
    with TestCase.captureOnCommitCallbacks(execute=True):  # the code leaves after commit
        response = client.post(reverse("mon_dossier:sign_in"), {"reference": reference, "code": code})
    assert response.status_code == 302 and response.url == reverse("mon_dossier:one_time_code")
    if otp is None:
        return response
    return client.post(reverse("mon_dossier:one_time_code"), {"code": otp})


def otp_from(text):
    return re.search(r"\b(\d{6})\b", text).group(1)


def test_full_sign_in_by_email_shows_status_and_logs_the_read(client, net, offered):
    _item, code = issue(net, offered)
    sign_in(client, offered.reference, code.lower().replace("-", " "))  # typed loosely
    (message,) = mail.outbox
    assert message.to == ["menage@example.org"]
    response = client.post(reverse("mon_dossier:one_time_code"), {"code": otp_from(message.body)})
    assert response.status_code == 302
    assert response.url == reverse("mon_dossier:status", kwargs={"reference": offered.reference})
    page = client.get(response.url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "vous devez répondre" in text and "Date limite de réponse" in text
    assert net.desk.name in text  # the referent desk
    for sentinel in [*SENTINELS.values(), "SENTINELLE-ADRESSE-1905"]:
        assert sentinel not in text
    assert AccessLog.objects.filter(case=offered, section=Section.HOUSEHOLD).count() == 1
    client.get(response.url)
    assert AccessLog.objects.filter(case=offered, section=Section.HOUSEHOLD).count() == 2


def test_sms_channel_uses_the_provider_setting(client, net, offered, sms_outbox):
    _item, code = issue(net, offered, channel="sms", destination="0612345678")
    sign_in(client, offered.reference, code)
    ((number, text),) = sms_outbox
    assert number == "0612345678" and not mail.outbox
    assert client.post(reverse("mon_dossier:one_time_code"), {"code": otp_from(text)}).status_code == 302


def test_no_enumeration_same_answer_for_wrong_code_unknown_file_revoked(client, net, offered):
    item, code = issue(net, offered)
    answers = []
    for reference, typed in [
        (offered.reference, "AAAA-BBBB-CCCC"),  # wrong code
        ("PP-2026-999999", code),  # unknown file
        ("n'importe quoi", code),  # not even a reference
    ]:
        client.cookies.clear()
        sign_in(client, reference, typed)
        page = client.get(reverse("mon_dossier:one_time_code"))
        wrong = client.post(reverse("mon_dossier:one_time_code"), {"code": "123456"})
        answers.append((page.status_code, page.content, wrong.status_code, wrong.content.count(b"errorlist")))
    assert not mail.outbox  # nothing was sent
    assert len({(a[0], a[2], a[3]) for a in answers}) == 1
    services.access_revoke(actor=net.world.social_worker, item=item)
    client.cookies.clear()
    sign_in(client, offered.reference, code)
    assert not mail.outbox


def test_wrong_one_time_code_then_lock_after_five_attempts(client, net, offered):
    _item, code = issue(net, offered)
    sign_in(client, offered.reference, code)
    right = otp_from(mail.outbox[0].body)
    wrong = "000000" if right != "000000" else "111111"
    for _i in range(5):
        response = client.post(reverse("mon_dossier:one_time_code"), {"code": wrong})
        assert response.status_code == 200
        assert "ne permet pas d&#x27;ouvrir un dossier" in response.content.decode()
    response = client.post(reverse("mon_dossier:one_time_code"), {"code": right})
    assert response.status_code == 200  # the code is spent after five wrong attempts
    assert client.get(reverse("mon_dossier:status", kwargs={"reference": offered.reference})).status_code == 404


@pytest.mark.parametrize("data", [{"code": "12"}, {"code": "abcdef"}, {}])
def test_bad_one_time_code_inputs_are_french_errors(client, net, offered, data):
    sign_in(client, offered.reference, "AAAA-BBBB-CCCC")
    response = client.post(reverse("mon_dossier:one_time_code"), data)
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


def test_sign_in_is_rate_limited_per_file_reference(client, net, offered):
    _item, code = issue(net, offered)
    for _i in range(5):
        sign_in(client, offered.reference, "AAAA-BBBB-CCCC")
    response = client.post(reverse("mon_dossier:sign_in"), {"reference": offered.reference, "code": code})
    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()
    assert not mail.outbox  # even the right code waits for the end of the window


def test_sign_in_is_rate_limited_per_address(client, net, settings):
    settings.PPGDID_HOUSEHOLD_LIMITS = {"address": 3}
    for n in range(3):
        sign_in(client, f"PP-2026-00000{n}", "AAAA-BBBB-CCCC")
    response = client.post(reverse("mon_dossier:sign_in"), {"reference": "PP-2026-000009", "code": "X"})
    assert response.status_code == 429


def test_another_households_file_is_404_and_logged(client, net, offered, caplog):
    _item, code = issue(net, offered)
    other = net.world.flag()
    issue(net, other)
    sign_in(client, offered.reference, code, otp=None)
    client.post(reverse("mon_dossier:one_time_code"), {"code": otp_from(mail.outbox[0].body)})
    with caplog.at_level("WARNING", logger="ppgdid.access"):
        response = client.get(reverse("mon_dossier:status", kwargs={"reference": other.reference}))
    assert response.status_code == 404
    assert f"object=case:{other.pk}" in caplog.text
    assert not AccessLog.objects.filter(case=other).exists()


def test_revoked_access_ends_the_session(client, net, offered):
    item, code = issue(net, offered)
    sign_in(client, offered.reference, code, otp=None)
    client.post(reverse("mon_dossier:one_time_code"), {"code": otp_from(mail.outbox[0].body)})
    url = reverse("mon_dossier:status", kwargs={"reference": offered.reference})
    assert client.get(url).status_code == 200
    services.access_revoke(actor=net.world.social_worker, item=HouseholdAccess.objects.get(pk=item.pk))
    assert client.get(url).status_code == 404
    assert client.get(reverse("mon_dossier:sign_in")).status_code == 200  # back to the sign-in form


def test_sign_out(client, net, offered):
    _item, code = issue(net, offered)
    sign_in(client, offered.reference, code, otp=None)
    client.post(reverse("mon_dossier:one_time_code"), {"code": otp_from(mail.outbox[0].body)})
    assert client.post(reverse("mon_dossier:sign_out")).status_code == 302
    assert client.get(reverse("mon_dossier:status", kwargs={"reference": offered.reference})).status_code == 404


def test_status_in_plain_words_at_each_early_step(client, net):
    case = net.world.flag()
    _item, code = issue(net, case)
    sign_in(client, case.reference, code, otp=None)
    client.post(reverse("mon_dossier:one_time_code"), {"code": otp_from(mail.outbox[0].body)})
    text = client.get(reverse("mon_dossier:status", kwargs={"reference": case.reference})).content.decode()
    assert "Votre travailleur social prépare votre dossier" in text
    assert "commission partenariale" in text
