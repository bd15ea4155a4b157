"""The evidence pack is recorded as read only when it is served: a denied request leaves no read."""

import logging

import pytest
from django.urls import reverse

from audit.models import AccessLog, Section

from .conftest import login

pytestmark = pytest.mark.django_db

EXPORTS = ("audit:export_csv", "audit:export_pdf")


def reads(caplog, case):
    """Read-log rows and read log lines about the evidence pack of `case`."""
    rows = AccessLog.objects.filter(case=case, section=Section.EVIDENCE_PACK).count()
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "ppgdid.access.read"
        and f"case_id={case.pk} " in r.getMessage()
        and "evidence_pack" in r.getMessage()
    ]
    return rows, len(lines)


@pytest.mark.parametrize("name", EXPORTS)
def test_denied_request_records_no_read_and_served_one_records_one(client, world, caplog, name):
    caplog.set_level(logging.INFO, logger="ppgdid.access.read")
    case = world.flag(is_protected=True)  # a protected case: every read of it is logged
    url = reverse(name, args=[case.pk])
    # The referent social worker sees the case but may not export its history: 404, and no read.
    for user in (world.social_worker, world.supervisor, world.landlord_agent):
        login(client, user)
        assert client.get(url).status_code == 404, user
    assert reads(caplog, case) == (0, 0)
    # The auditor gets the pack: one read, in the table and in the log.
    login(client, world.auditor)
    response = client.get(url)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert reads(caplog, case) == (1, 1)
