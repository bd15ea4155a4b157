"""audit.bulk's batched chaining writes exactly the entries the one-by-one path (chain_history_row,
run by the history signal) writes for the same rows in the same order."""

from django.apps import apps

from audit import bulk
from audit.chain import all_chain_keys, chain_history_row, verify_chain
from audit.models import AuditChainHead, AuditEntry
from cases import choices
from cases.audit import acting_as
from cases.models import HouseholdMember
from tests.workflows import steps

FIELDS = (
    "chain",
    "seq",
    "case_id",
    "source",
    "source_id",
    "action",
    "actor_id",
    "occurred_at",
    "row_digest",
    "prev_hash",
    "hash",
)


def entries():
    # Chain by chain: the batched path writes the case chains before the global one (ids differ).
    return list(AuditEntry.objects.order_by("chain", "seq").values_list(*FIELDS))


def test_batched_chaining_equals_one_by_one(world):
    case = world.flag()
    case = steps.diagnose(world, case)
    case = steps.label(world, case)
    case = steps.propose(world, case)
    case = steps.allocate(world, case)
    case = steps.refuse(world, case)
    assert case.status == choices.CaseStatus.PROPOSAL
    signalled = AuditEntry.objects.order_by("pk").values_list(*FIELDS)
    pairs = [(apps.get_model(source), int(source_id)) for _c, _s, _case, source, source_id, *_rest in signalled]
    assert len(pairs) > 30

    def reset():
        AuditEntry.objects.all().delete()  # queryset delete: the append-only guard is on the instance
        AuditChainHead.objects.all().delete()

    # The same rows chained again, one by one then in one batch, at the same moment (a household's
    # rows join the case that exists now, where at flagging time they went to the global chain).
    reset()
    for model, pk in pairs:
        chain_history_row(model.objects.get(pk=pk))
    one_by_one = entries()
    assert len({e[0] for e in one_by_one}) >= 2  # the case's chain and the global one
    reset()
    assert bulk.chain_history_ids(pairs) == len(one_by_one)
    assert entries() == one_by_one
    assert all(verify_chain(key) is None for key in all_chain_keys())


def test_bulk_helpers_chain_new_rows_once(world):
    household = world.household()
    with acting_as(world.social_worker, "Import"):
        members = [
            HouseholdMember(
                household=household, first_name=n, last_name="B", relationship="child", birth_date="2015-01-01"
            )
            for n in ("A", "C", "D")
        ]
        bulk.bulk_create_with_history(members, HouseholdMember, reason="Import des membres")
        for m in members:
            m.first_name += "x"
        bulk.bulk_update_with_history(members, HouseholdMember, ["first_name"], reason="Correction")
    sources = AuditEntry.objects.filter(source="cases.historicalhouseholdmember").values_list("source_id", flat=True)
    assert len(sources) == len(set(sources)) == 6
    assert all(verify_chain(key) is None for key in all_chain_keys())
