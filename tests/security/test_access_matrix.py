"""The access matrix: every URL of the resolver × method × own/foreign object × role → expected status.

access_matrix.csv is the reference. This test walks every URL pattern of config.urls and fails
  - on a URL (or a method, or a target) the file does not list: the failure message prints the rows
    to add, with "?" in the cells to decide;
  - on any cell that differs from what the server answers.
A row whose name ends in ":*" covers a whole namespace (Django admin); its cells are checked on the
namespace's index page.

Targets: "none" (URL without object), "own" (an object in the role's scope), "foreign" (outside every
scope but the auditor's). See tests/security/objects.py for who and what they are.
"""

import csv
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.responses import close_response

from .objects import ROLES, MatrixWorld, kwargs_builder

MATRIX_FILE = Path(__file__).with_name("access_matrix.csv")
METHODS = ("GET", "POST")
HEADER = ["url_name", "method", "target", *ROLES]

pytestmark = pytest.mark.django_db


def walk(patterns, namespace="", route="", kwargs=frozenset()):
    """(full name, kwarg names, route) for every URL pattern under `patterns`."""
    for p in patterns:
        names = kwargs | set(p.pattern.regex.groupindex)
        if isinstance(p, URLResolver):
            ns = f"{namespace}:{p.namespace}" if namespace and p.namespace else (p.namespace or namespace)
            yield from walk(p.url_patterns, ns, route + str(p.pattern), frozenset(names))
        elif isinstance(p, URLPattern):
            name = p.name or f"<unnamed {route}{p.pattern}>"
            yield (f"{namespace}:{name}" if namespace else name), frozenset(names), route + str(p.pattern)


def all_urls():
    import config.urls

    return list(walk(get_resolver(config.urls).url_patterns))


def load_matrix():
    rows = {}
    with MATRIX_FILE.open(newline="", encoding="utf-8") as handle:
        lines = (line for line in handle if line.strip() and not line.startswith("#"))
        for row in csv.DictReader(lines):
            rows[(row["url_name"], row["method"], row["target"])] = row
    return rows


def covering_row(rows, name, method, target):
    if (name, method, target) in rows:
        return rows[(name, method, target)]
    namespace = name.split(":")[0]
    if ":" in name and (f"{namespace}:*", method, "none") in rows:
        return rows[(f"{namespace}:*", method, "none")]
    return None


def test_matrix_file_lists_every_url_of_the_resolver():
    rows = load_matrix()
    missing, no_builder = [], []
    for name, kwarg_names, route in all_urls():
        targets = ("own", "foreign") if kwarg_names else ("none",)
        if kwarg_names and not name.endswith("*") and kwargs_builder(name, set(kwarg_names)) is None:
            if not covering_row(rows, name, "GET", "none"):
                no_builder.append(f"{name} ({route}: {sorted(kwarg_names)})")
        for method in METHODS:
            for target in targets:
                if covering_row(rows, name, method, target) is None:
                    missing.append(",".join([name, method, target] + ["?"] * len(ROLES)))
    message = []
    if missing:
        message.append(
            f"{len(missing)} row(s) missing from {MATRIX_FILE.name}: add these lines and replace each ? by the "
            f"expected status ({','.join(HEADER)}):\n" + "\n".join(missing)
        )
    if no_builder:
        message.append(
            "No way to build own/foreign objects for: " + "; ".join(no_builder) + " — add them to URL_OBJECTS in "
            "tests/security/objects.py"
        )
    assert not message, "\n\n".join(message)


def test_matrix_rows_name_existing_urls():
    known = {name for name, _k, _r in all_urls()}
    namespaces = {name.split(":")[0] + ":*" for name in known if ":" in name}
    stale = [key for key in load_matrix() if key[0] not in known and key[0] not in namespaces]
    assert not stale, f"rows for URLs that no longer exist, remove them: {stale}"


def request_status(client, mw, role, name, method, target, kwarg_names):
    if name.endswith(":*"):
        url = reverse(name[:-1] + "index")
    else:
        builder = kwargs_builder(name, set(kwarg_names))
        url = reverse(name, kwargs=builder(mw, target) if builder else None)
    client.logout()
    user = mw.user(role)
    if user is not None:
        client.force_login(type(user).objects.get(pk=user.pk))
    # Each request runs in a savepoint rolled back afterwards: a POST by one role leaves no trace.
    with transaction.atomic():
        response = client.generic(method, url)
        transaction.set_rollback(True)
    close_response(response)  # a served file (documents:download) stays open until then
    return response.status_code


def test_every_cell_of_the_matrix(client, world):
    mw = MatrixWorld(world)
    rows = load_matrix()
    kwargs_by_name = {name: kwarg_names for name, kwarg_names, _r in all_urls()}
    differences = []
    checked = 0
    for (name, method, target), row in sorted(rows.items()):
        if name not in kwargs_by_name and not name.endswith(":*"):
            continue  # reported by test_matrix_rows_name_existing_urls
        for role in ROLES:
            expected = row[role].strip()
            if expected in ("", "?"):
                differences.append(f"{name} {method} {target} {role}: no expected status in the file")
                continue
            got = request_status(client, mw, role, name, method, target, kwargs_by_name.get(name, frozenset()))
            checked += 1
            if str(got) != expected:
                differences.append(f"{name} {method} {target} {role}: expected {expected}, got {got}")
    assert checked > 0
    assert not differences, "\n".join(differences)
