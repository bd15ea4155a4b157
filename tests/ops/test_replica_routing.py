"""Read-replica routing (cases/routing.py): lists and statistics read the replica when one is set;
writes, every other read, and the reads after a write in the same request stay on default."""

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from cases.models import Case, Commune
from cases.routing import ReplicaRouter, replica_reads

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])
router = ReplicaRouter()


def case_queries(queries) -> int:
    return sum('"cases_case"' in q["sql"] for q in queries)


def get(client, url):
    with (
        CaptureQueriesContext(connections["default"]) as on_default,
        CaptureQueriesContext(connections["replica"]) as on_replica,
    ):
        response = client.get(url)
    assert response.status_code == 200
    return case_queries(on_default.captured_queries), case_queries(on_replica.captured_queries)


def test_the_case_list_reads_the_replica_and_a_case_page_does_not(world, client, settings):
    case = world.flag()
    client.force_login(world.social_worker)
    settings.PPGDID_READ_REPLICA = ""
    on_default, on_replica = get(client, "/dossiers/")
    assert on_default > 0 and on_replica == 0  # no replica configured: everything on default
    settings.PPGDID_READ_REPLICA = "replica"
    on_default, on_replica = get(client, "/dossiers/")
    assert on_default == 0 and on_replica > 0
    on_default, on_replica = get(client, f"/dossiers/{case.pk}/")
    assert on_default > 0 and on_replica == 0


def test_statistics_read_the_replica(world, client, settings):
    settings.PPGDID_READ_REPLICA = "replica"
    client.force_login(world.commission)
    with (
        CaptureQueriesContext(connections["default"]) as on_default,
        CaptureQueriesContext(connections["replica"]) as on_replica,
    ):
        assert client.get("/statistiques/").status_code == 200
    assert on_replica.captured_queries
    assert not any("steering_" in q["sql"] for q in on_default.captured_queries)


def test_writes_and_reads_after_a_write_stay_on_default(settings):
    settings.PPGDID_READ_REPLICA = "replica"
    assert router.db_for_read(Case) == "default"  # outside a list or statistics page
    with replica_reads():
        assert router.db_for_read(Case) == "replica"
        with transaction.atomic():
            assert router.db_for_read(Case) == "default"  # inside a transaction
        assert router.db_for_read(Case) == "replica"
        Commune.objects.create(insee_code="99999", name="Essai", departement="99")
        assert router.db_for_read(Case) == "default"  # read-after-write: the rest of the request
    with replica_reads():
        assert router.db_for_read(Case) == "replica"  # the next request starts afresh
    assert router.db_for_write(Case) == "default"
    assert router.allow_migrate("replica", "cases") is False
