"""A landlord agent never receives text from a category its column hides: pages, exports, API.

The designated case carries one sentinel string per hidden category (objects.HIDDEN_FROM_LANDLORD).
The test requests, as the landlord agent of the designated organisation, every URL of the resolver it
can build (no parameter, or the case), with GET and with the usual export/API query strings, and
fails if any answer contains a sentinel. It also checks the presenter that exports and API
serialisers are built on. New pages, exports and API endpoints are covered as soon as they exist.
"""

import json

import pytest
from django.urls import reverse

from permissions.presenters import VisibleCase, visible_cases
from permissions.roles import Role

from .objects import HIDDEN_FROM_LANDLORD, MatrixWorld, kwargs_builder
from .test_access_matrix import all_urls

pytestmark = pytest.mark.django_db

QUERY_STRINGS = ("", "?format=csv", "?format=xlsx", "?format=json", "?export=1")


def leaks(text: str) -> list[str]:
    return [name for name, sentinel in HIDDEN_FROM_LANDLORD.items() if sentinel in text]


def body_text(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        return _xlsx_text(content)
    return content.decode("utf-8", errors="replace")


def _xlsx_text(content: bytes) -> str:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "".join(archive.read(n).decode("utf-8", errors="replace") for n in archive.namelist())


def test_presenter_gives_a_landlord_no_hidden_text(world):
    mw = MatrixWorld(world)
    landlord = mw.users[Role.LANDLORD_AGENT]
    as_dict = VisibleCase(landlord, mw.case).as_dict()
    assert not leaks(json.dumps(as_dict, default=str))
    bulk = [v.as_dict() for v in visible_cases(landlord, type(mw.case).objects.filter(pk=mw.case.pk))]
    assert bulk == [as_dict]
    # The sentinels are really on the case: the referent sees every one of them.
    referent = VisibleCase(mw.users[Role.SOCIAL_WORKER], mw.case).as_dict()
    assert sorted(leaks(json.dumps(referent, default=str))) == sorted(HIDDEN_FROM_LANDLORD)


def test_no_page_export_or_api_answer_shows_a_landlord_hidden_text(client, world):
    mw = MatrixWorld(world)
    landlord = mw.users[Role.LANDLORD_AGENT]
    client.force_login(type(landlord).objects.get(pk=landlord.pk))
    checked, found = [], []
    for name, kwarg_names, _route in all_urls():
        if name.startswith("admin:"):
            continue
        builder = kwargs_builder(name, set(kwarg_names))
        if kwarg_names and builder is None:
            continue
        url = reverse(name, kwargs=builder(mw, "own") if builder else None)
        for query in QUERY_STRINGS:
            response = client.get(url + query)
            if response.status_code != 200:
                continue
            checked.append(url + query)
            found += [f"{url}{query}: {leak}" for leak in leaks(body_text(response))]
    assert checked, "no page answered the landlord: the test would prove nothing"
    assert not found, "hidden text reached the landlord:\n" + "\n".join(found)
