"""The letter confirming a loss of DALO benefit states the one route that applies (issue 15, point 12)."""

import pytest

from committees import services as committee_services
from committees.documents import decision_letter_pdf
from committees.models import VoteChoice
from permissions.roles import Role
from tests.workflows import steps

from .test_documents import text_of

pytestmark = pytest.mark.django_db


def test_loss_letter_states_the_injonction_route_only(cw):
    world = cw.world
    case = steps.label(world, cw.case_at_committee(is_dalo=True))
    case = steps.refuse(world, steps.allocate(world, steps.propose(world, case)))
    item = committee_services.agenda_add(actor=cw.secretary_user, session=cw.session, case=case)
    cw.vote_all(item, VoteChoice.LOSS_CONFIRMED, [cw.chair, cw.secretary, cw.member])
    cw.open_with(cw.chair, cw.secretary, cw.member)
    decision = committee_services.decision_record(
        actor=cw.chair_user,
        item=item,
        values={"dalo_benefit_lost": True, "offer_adapted": True, "reason": "Offre adaptée refusée sans motif"},
    )
    text = " ".join(text_of(decision_letter_pdf(decision, {Role.SOCIAL_WORKER})).split())
    assert "recours en injonction" in text and "4 mois" in text
    assert "au plus tard le 1 juillet 2027" in text  # préfet's deadline 1 March 2027 + 4 months
    assert "demander de revoir sa décision" not in text  # no recours gracieux offered
    assert "2 mois" not in text
