"""A reception network over the test world's territory (Toulon, La Seyne), with one desk per level."""

import pytest

from cases import choices
from permissions.roles import Role
from reception.models import Desk, Network
from tests.factories import LA_SEYNE, NANTES, TOULON, OrganisationFactory, commune, member


class Net:
    def __init__(self, world):
        self.world = world
        self.head_org = OrganisationFactory(name="ADIL (test)", kind=choices.OrganisationKind.ASSOCIATION)
        self.network = Network.objects.create(name="Réseau test", head_organisation=self.head_org)
        self.network.communes.set([commune(TOULON), commune(LA_SEYNE)])
        self.head = member(Role.NETWORK_HEAD, self.head_org, username="tete")
        self.reception = member(Role.RECEPTION, world.ccas, username="agent-accueil")
        self.admin = member(Role.TERRITORY_ADMIN, world.state, communes=[TOULON], username="admin-terr")
        self.desk = self.make_desk(world.ccas, "CCAS accueil", 3)
        self.desk1 = self.make_desk(self.head_org, "Point info", 1, code=LA_SEYNE)
        nantes_org = OrganisationFactory(name="Maison de l'habitant (test)", covers=[NANTES])
        self.foreign_network = Network.objects.create(name="Réseau nantais", head_organisation=nantes_org)
        self.foreign_network.communes.set([commune(NANTES)])
        self.foreign_desk = Desk.objects.create(
            network=self.foreign_network,
            organisation=nantes_org,
            name="Accueil nantais",
            level=2,
            address="1 quai Test",
            commune=commune(NANTES),
            opening_hours="9 h – 12 h",
        )
        self.foreign_head = member(Role.NETWORK_HEAD, nantes_org, username="tete-nantes")
        self.foreign_sw = member(Role.SOCIAL_WORKER, nantes_org, username="ts-nantais")

    def make_desk(self, organisation, name, level, code=TOULON):
        return Desk.objects.create(
            network=self.network,
            organisation=organisation,
            name=name,
            level=level,
            address="2 rue du Test",
            commune=commune(code),
            opening_hours="Du lundi au vendredi, 9 h – 17 h",
            phone="0400000000",
        )


@pytest.fixture
def net(world):
    return Net(world)


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    from reception import sms

    settings.PPGDID_SMS_BACKEND = "reception.sms.LocmemBackend"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()
