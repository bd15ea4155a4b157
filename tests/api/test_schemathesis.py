"""Bounded property-based run of the OpenAPI schema against the live app (WSGI, same process and
database transaction), with a real token: every operation, positive and negative data. No response
may be a server error. Figures are printed (run with -s to see them)."""

import json
import time
from collections import Counter
from contextlib import contextmanager

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as run_settings
from schemathesis import GenerationMode

from exchanges.models import ImportJob, JobStatus
from permissions.models import Membership
from permissions.roles import Role
from tests.api.conftest import Partner
from tests.workflows import steps

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 20  # per operation and generation mode: bounded
IMPORTS = "/api/v1/imports/"  # the application import (exchanges.api): called with an importing client's token


def _schema(client, case_ids, dwelling_ids, job_ids):
    raw = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    # The JSON import: objects keyed by the default mapping's headers, so valid calls create jobs.
    applications = raw["components"]["schemas"]["JsonImportIn"]["properties"]["applications"]
    headers = ["NUD", "Nom", "Prénom", "Date de naissance", "Code INSEE commune", "Situation de logement"]
    applications["items"] = {
        "type": "object",
        "properties": {h: {"type": "string", "maxLength": 40} for h in headers},
        "additionalProperties": False,
    }
    # Point path ids at real objects part of the time, so valid calls reach the services.
    for path, item in raw["paths"].items():
        ids = dwelling_ids if path.startswith("/api/v1/dwellings/") else case_ids
        ids = job_ids if path.startswith(IMPORTS) else ids
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] == "id":
                    parameter["schema"] = {"type": "integer", "enum": ids}
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = get_wsgi_application()
    return schema


@contextmanager
def keep_connection():
    """A real WSGI handler closes the database connection after each request, which would end the
    test's transaction; Django's test client disconnects the same handler."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def importing_partner(world):
    """Another organisation's client whose service user holds the import role (exchanges.access),
    and one finished job of its own."""
    importer = Partner(world.other_landlord, name="SI partenaire imports")
    user = importer.client_row.user
    Membership.objects.create(user=user, organisation=world.other_landlord, role=Role.TERRITORY_ADMIN)
    job = ImportJob.objects.create(
        created_by=user,
        organisation=world.other_landlord,
        mapping="registre@1",
        file_name="registre.csv",
        content=b"",
        status=JobStatus.DONE,
        summary={"lines": 1, "rejected": 1, "messages": [[2, "NUD", "rejet", "NUD invalide"]]},
        report="ligne;colonne;type;message\r\n2;NUD;rejet;NUD invalide\r\n",
    )
    return importer, job


def test_schema_fuzzing_has_no_server_error(world, partner, client):
    cases = [steps.label(world, steps.diagnose(world, world.flag(is_dalo=i == 0))) for i in range(3)]
    steps.allocate(world, steps.propose(world, cases[2], world.dwelling2))
    importer, job = importing_partner(world)
    schema = _schema(
        client,
        [c.pk for c in cases] + [987654],
        [world.dwelling.pk, world.dwelling2.pk, 987654],
        [job.pk, 987654],
    )
    statuses: Counter = Counter()

    def auth(path):
        token = importer.token if path.startswith(IMPORTS) else partner.token
        return {"Authorization": f"Bearer {token}"}

    server_errors = []
    operations = 0
    started = time.perf_counter()

    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @run_settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                response = case.call(headers=auth(case.path))
                statuses[response.status_code] += 1
                if response.status_code >= 500:
                    server_errors.append((case.method, case.formatted_path, case.body, response.text[:300]))

            with keep_connection():
                run()

    calls = sum(statuses.values())
    print(
        f"\nschemathesis {schemathesis.__version__}: {operations} operations, {calls} calls, "
        f"statuses {dict(sorted(statuses.items()))}, server errors {len(server_errors)}, "
        f"{time.perf_counter() - started:.1f} s"
    )
    assert operations >= 14
    assert statuses[202] >= 1  # the import endpoint accepted valid calls (jobs created)
    assert calls >= operations * 10
    assert not server_errors, server_errors[:5]
