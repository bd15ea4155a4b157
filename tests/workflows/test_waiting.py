"""A household ranked behind another by the CALEOL: its reply step is open, but it cannot answer until
the dwelling passes down to it. The pages say so, with the date it will know, and offer no answer form."""

from datetime import date
from html import unescape

import pytest
from django.urls import reverse

from cases import choices
from tests.cases.test_offers import labelled, notify, put_forward, rank, reply

from . import http

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.cases.urls_with_stubs")]

WAITING = "Ce dossier attend un ménage mieux classé"


def ranked_round(world):
    first, second, third = labelled(world)
    put_forward(world, [first, second, third])
    for n, case in enumerate([first, second, third], start=1):
        rank(world, case, n)
    return first, second, third


def page(client, user, case):
    client.force_login(user)
    response = client.get(reverse("cases:detail", args=[case.pk]))
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_rank_two_case_and_step_pages_say_it_waits_with_the_date(world, client):
    first, second, _third = ranked_round(world)
    step = http.step_url(second, "reply")

    # Rank 1 not notified yet: no date can be given, and no answer can be recorded.
    for user in (world.landlord_agent, world.social_worker):
        html = page(client, user, second)
        assert WAITING in html and "rang 1" in html
        assert "quand l'offre aura été notifiée" in html
        assert f'href="{step}"' not in html and "Prendre en charge" not in html

    # Rank 1 notified on Thursday 12/11/2026: 10 days end on Sunday 22/11, carried to Monday 23/11.
    notify(world, first, date(2026, 11, 12))
    html = page(client, world.landlord_agent, second)
    assert WAITING in html and "jusqu'au 23/11/2026 inclus" in html
    assert f'href="{step}"' not in html

    client.force_login(world.landlord_agent)
    response = client.get(step)
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert WAITING in html and "23/11/2026" in html
    assert 'name="answer"' not in html and "Enregistrer l'étape" not in html

    # Rank 1 refuses: the dwelling passes to rank 2, whose page offers the step again.
    reply(world, first, choices.ReplyAnswer.REFUSED, refusal_motive=choices.RefusalMotive.RENT)
    html = page(client, world.landlord_agent, second)
    assert WAITING not in html and f'href="{step}"' in html
    assert 'name="answer"' in client.get(step).content.decode()


def test_rank_two_behind_a_conditional_allocation_gives_both_dates(world, client):
    first, second, third = labelled(world)
    put_forward(world, [first, second, third])
    values = {
        "decision": choices.CaleolDecisionType.SUSPENSIVE_CONDITION,
        "missing_document": "Avis d'imposition",
        "condition_deadline": date(2026, 12, 4),
    }
    rank(world, first, 1, **values)
    rank(world, second, 2)
    rank(world, third, 3)
    notify(world, first, date(2026, 11, 12))
    html = page(client, world.social_worker, second)
    # The dwelling may stay with rank 1 until the later of its reply deadline and its document deadline.
    assert "jusqu'au 04/12/2026 inclus" in html and "au plus tard le 04/12/2026" in html


def test_case_waits_while_the_caleol_has_not_ranked_every_candidate(world, client):
    first, second, third = labelled(world)
    put_forward(world, [first, second, third])
    rank(world, second, 2)
    rank(world, first, 1)
    html = page(client, world.landlord_agent, second)
    assert "n'a pas encore statué sur tous les candidats" in html
    assert f'href="{http.step_url(second, "reply")}"' not in html


def decision_options(form) -> dict:
    return {str(value): str(label) for value, label in form.fields["decision"].widget.choices}


def test_caleol_step_offers_the_next_free_rank_and_rank_errors_sit_on_the_rank_field(world, client):
    first, second, third = labelled(world)
    put_forward(world, [first, second, third])
    rank(world, first, 1, decision=choices.CaleolDecisionType.ALLOCATED)
    client.force_login(world.landlord_agent)

    form = client.get(http.step_url(second, "caleol")).context["form"]
    options = decision_options(form)
    assert choices.CaleolDecisionType.ALLOCATED not in options  # no plain "Attribution": rank 1 is taken
    assert options[choices.CaleolDecisionType.ALLOCATED_RANKED] == "Attribution en rang n (premier rang libre : 2)"
    assert form["rank"].value() == 2
    assert "Premier rang libre : 2" in form.fields["rank"].help_text

    # A form opened before rank 1 was given still posts plain "Attribution": the error is on the rank field.
    response = http.caleol(client, world, second)
    form = response.context["form"]
    assert response.status_code == 200 and not form.non_field_errors()
    assert "Le rang 1 est déjà donné" in form.errors["rank"][0]
    response = http.caleol(client, world, second, decision=choices.CaleolDecisionType.ALLOCATED_RANKED, rank="1")
    assert list(response.context["form"].errors) == ["rank"]

    # The suggested rank does not get in the way of a decision that allocates nothing.
    response = http.caleol(
        client, world, second, decision=choices.CaleolDecisionType.NOT_ALLOCATED, rank="2",
        non_allocation_reason=choices.NonAllocationReason.BETTER_RANKED,
    )  # fmt: skip
    http.assert_done(response, second)

    form = client.get(http.step_url(third, "caleol")).context["form"]
    response = http.caleol(client, world, third, decision="allocated_ranked", rank=form["rank"].value())
    http.assert_done(response, third)
    assert third.proposals.get().caleol_decision.rank == 2


def test_dwelling_page_caleol_form_offers_the_next_free_rank_with_errors_on_rank(world, client):
    first, second, third = labelled(world)
    offer = put_forward(world, [first, second, third])
    rank(world, first, 1, decision=choices.CaleolDecisionType.ALLOCATED)
    proposal = offer.proposals.get(case=second)
    client.force_login(world.landlord_agent)
    url = reverse("dwellings:detail", args=[world.dwelling.pk])
    rows = {row["proposal"].pk: dict(row["forms"]) for row in client.get(url).context["rows"]}
    form = rows[proposal.pk]["caleol"]
    assert choices.CaleolDecisionType.ALLOCATED not in decision_options(form)
    assert form["rank"].value() == 2

    prefix = f"caleol-{proposal.pk}"
    response = client.post(
        reverse("dwellings:action", args=[world.dwelling.pk, proposal.pk, "caleol"]),
        {f"{prefix}-decision": choices.CaleolDecisionType.ALLOCATED, f"{prefix}-decided_on": "2026-11-10"},
    )
    assert response.status_code == 400
    failed = dict(next(row for row in response.context["rows"] if row["proposal"].pk == proposal.pk)["forms"])
    form = failed["caleol"]
    assert not form.non_field_errors() and "Le rang 1 est déjà donné" in form.errors["rank"][0]
    html = unescape(response.content.decode())
    assert f'id="id_{prefix}-rank-erreurs"' in html
