import pytest

from tests.workflows import steps


@pytest.fixture(autouse=True)
def audit_urls(settings):
    settings.ROOT_URLCONF = "tests.audit.urls"


@pytest.fixture
def rehoused(world):
    """flag → rehoused with one refusal, through the services (tests/workflows/steps.py)."""
    case = world.flag()
    case = steps.diagnose(world, case)
    case = steps.label(world, case)
    case = steps.propose(world, case)
    case = steps.allocate(world, case)
    case = steps.refuse(world, case)
    case = steps.propose(world, case, world.dwelling2)
    case = steps.allocate(world, case)
    case = steps.accept(world, case)
    return steps.sign(world, case)


def login(client, user):
    """Log in as `user` as stored (the factory sets the password in memory only, so the session hash
    of the in-memory object would not match the stored one)."""
    user.refresh_from_db()
    client.force_login(user)
