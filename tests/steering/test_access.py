"""The steering rows of the access matrix (tests/security/access_matrix.csv), checked on their own: the full
matrix test walks every URL, this one only /statistiques/ (quick to run while working on this area)."""

import pytest

from tests.security.objects import ROLES, MatrixWorld
from tests.security.test_access_matrix import all_urls, load_matrix, request_status

pytestmark = pytest.mark.django_db


def test_steering_rows_of_the_access_matrix(client, world):
    mw = MatrixWorld(world)
    kwargs_by_name = {name: kwarg_names for name, kwarg_names, _r in all_urls()}
    rows = {key: row for key, row in load_matrix().items() if key[0].startswith("steering:")}
    assert {key[0] for key in rows} == {name for name in kwargs_by_name if name.startswith("steering:")}
    differences = []
    for (name, method, target), row in sorted(rows.items()):
        for role in ROLES:
            got = request_status(client, mw, role, name, method, target, kwargs_by_name[name])
            if str(got) != row[role].strip():
                differences.append(f"{name} {method} {target} {role}: expected {row[role]}, got {got}")
    assert not differences, "\n".join(differences)
