from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from permissions.queues import task_queue_for


@pytest.mark.django_db(transaction=True)
def test_access_benchmark_builds_its_data_and_prints_queries_per_page():
    from cases.models import Commune
    from cases.reference import load_communes

    if not Commune.objects.exists():  # a previous transactional test flushed the reference data
        load_communes(Commune)
    out = StringIO()
    call_command("access_benchmark", cases=80, grants=60, repeat=1, force=True, stdout=out)
    text = out.getvalue()
    assert "case_grants=120" in text  # make_proposal + view_case on each designated case
    assert "task queue" in text and "queries" in text
    from django.contrib.auth import get_user_model

    agent = get_user_model().objects.get(username="bench-bailleur")
    assert len(task_queue_for(agent)) == 51  # a page, plus the row telling a next page exists


@pytest.mark.django_db
def test_access_benchmark_refuses_more_grants_than_cases():
    with pytest.raises(CommandError):
        call_command("access_benchmark", cases=10, grants=20, force=True)
