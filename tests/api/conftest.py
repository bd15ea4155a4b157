import pytest
from rest_framework.test import APIClient

from api.services import api_client_create
from tests.factories import UserFactory


class Partner:
    """An HTTP client carrying one landlord organisation's token."""

    def __init__(self, organisation, name="SI bailleur"):
        admin = UserFactory(is_superuser=True)
        self.client_row, self.token = api_client_create(actor=admin, organisation=organisation, name=name)
        self.http = APIClient()
        self.http.credentials(HTTP_AUTHORIZATION=f"Bearer {self.token}")
        self._keys = 0

    def get(self, path, **params):
        return self.http.get(f"/api/v1/{path}", params)

    def post(self, path, data, key=None):
        self._keys += 1
        key = key or f"test-key-{self.client_row.pk}-{self._keys:04d}"
        return self.http.post(f"/api/v1/{path}", data, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.fixture
def partner(world):
    return Partner(world.landlord)


@pytest.fixture
def other_partner(world):
    return Partner(world.other_landlord, name="SI autre bailleur")
