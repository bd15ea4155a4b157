from datetime import UTC, datetime

import pytest

from cases import choices
from committees import services
from committees.models import Committee, CommitteeMember
from tests.factories import LA_SEYNE, TOULON, OrganisationFactory, UserFactory, commune
from tests.workflows import steps

Function = CommitteeMember.Function


class CommitteeWorld:
    """The Toulon committee: a chair (métropole), a secretary (State), the world's commission member,
    a landlord representative; one planned session."""

    def __init__(self, world):
        self.world = world
        self.admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
        self.epci = OrganisationFactory(name="Métropole TPM (test)", kind=choices.OrganisationKind.EPCI)
        self.committee = Committee.objects.create(name="Commission cas complexes Toulon (test)", quorum_count=3)
        self.committee.communes.set([commune(TOULON), commune(LA_SEYNE)])
        self.chair_user = UserFactory(username="presidente", first_name="Paule", last_name="Présidente")
        self.secretary_user = UserFactory(username="secretaire", first_name="Sam", last_name="Secrétaire")
        self.landlord_rep_user = UserFactory(username="rep_bailleur", first_name="Lou", last_name="Bailleur")
        self.chair = self.seat(self.chair_user, self.epci, Function.CHAIR)
        self.secretary = self.seat(self.secretary_user, world.state, Function.SECRETARY)
        self.member = self.seat(world.commission, world.state)
        self.landlord_rep = self.seat(self.landlord_rep_user, world.landlord)
        self.session = services.session_create(
            actor=self.secretary_user,
            committee=self.committee,
            starts_at=datetime(2026, 10, 6, 9, 30, tzinfo=UTC),
            place="Hôtel de la métropole, salle 2",
        )

    def seat(self, user, organisation, function=Function.MEMBER, **kwargs):
        return services.committee_member_add(
            actor=self.admin,
            committee=self.committee,
            user=user,
            organisation=organisation,
            function=function,
            **kwargs,
        )

    def case_at_committee(self, **kwargs):
        return steps.diagnose(self.world, self.world.flag(**kwargs))

    def users(self):
        return [self.chair_user, self.secretary_user, self.world.commission, self.landlord_rep_user]

    def open_with(self, *seats):
        services.session_open(actor=self.secretary_user, session=self.session)
        services.attendance_set(
            actor=self.secretary_user, session=self.session, present_member_ids=[s.pk for s in seats]
        )
        self.session.refresh_from_db()

    def vote_all(self, item, choice, seats=None):
        for seat in seats or (self.chair, self.secretary, self.member, self.landlord_rep):
            services.vote_cast(actor=seat.user, item=item, choice=choice)


@pytest.fixture
def cw(world):
    return CommitteeWorld(world)


LABELLED = {
    "outcome": choices.CommitteeOutcome.LABELLED,
    "orientation": choices.Orientation.ORDINARY,
    "support_measure": choices.SupportMeasure.ASLL,
}
