"""Cases of the synthetic territory, written in batches as the real flow would have left them.

Each case follows a path of steps (PATHS) simulated against the flow's routing (workflows/flows.py):
the domain records each step writes, the case's states, the viewflow process and its Task rows
(flow_task, type, status, owner, owner_permission on the case, previous links), the step grants
permissions.grants.sync_case_grants gives its current step, and a history row for every state, all
chained per case (audit.bulk). tests/bench checks the result against the real services.
"""

import random
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction
from guardian.models import GroupObjectPermission
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS
from viewflow.workflow.token import Token

from audit.bulk import HistoryBatch, State, bulk_create_with_states, insert_dicts
from cases import choices
from cases.models import (
    CaleolDecision,
    Case,
    CaseCriterion,
    CommitteeReview,
    Diagnostic,
    Dwelling,
    DwellingOffer,
    Household,
    HouseholdMember,
    HouseholdReply,
    Proposal,
)
from permissions.roles import Role
from workflows.flows import STEPS, CaseFlow
from workflows.models import CaseProcess

from .territory import FIRST_NAMES, LAST_NAMES, SOCIAL_SHARES

C = choices
Outcome = C.CommitteeOutcome
Decision = C.CaleolDecisionType
Answer = C.ReplyAnswer

# name, weight (%), steps done; the flow decides where each case then stands.
PATHS = [
    ("diagnostic", 14, []),
    ("adjourned", 2, ["D", "C:adjourned"]),
    ("committee", 10, ["D"]),
    ("proposal", 9, ["D", "C:labelled"]),
    ("proposal_refused", 3, ["D", "C:labelled", "P", "K:allocated", "R:refused"]),
    ("proposal_not_allocated", 2, ["D", "C:labelled", "P", "K:not_allocated"]),
    ("caleol", 6, ["D", "C:labelled", "P"]),
    ("reply", 6, ["D", "C:labelled", "P", "K:allocated"]),
    ("lease", 4, ["D", "C:labelled", "P", "K:allocated", "R:accepted"]),
    ("rehoused", 22, ["D", "C:labelled", "P", "K:allocated", "R:accepted", "L"]),
    (
        "rehoused_second_offer",
        4,
        ["D", "C:labelled", "P", "K:allocated", "R:refused", "P", "K:allocated", "R:accepted", "L"],
    ),
    ("not_kept", 5, ["D", "C:not_kept"]),
    ("redirected", 3, ["D", "C:redirected"]),
    ("withdrawn_early", 3, ["X"]),
    ("withdrawn", 4, ["D", "C:labelled", "X"]),
    ("inadmissible", 1, ["D", "C:labelled", "P", "K:inadmissible"]),
    ("dalo_loss_review", 1, ["D", "C:labelled", "P", "K:allocated", "R:refused_dalo"]),
]
REASONS = {
    "flag": "Signalement du ménage",
    "D": "Diagnostic terminé",
    "C": "Décision de la commission",
    "P": "Proposition de logement",
    "K": "Décision CALEOL",
    "R": "Réponse du ménage",
    "L": "Bail signé",
    "X": "Clôture du dossier",
}
STATUS_OF = {name: status for name, (_codename, status) in STEPS.items()}
CODENAME_OF = {name: codename for name, (codename, _status) in STEPS.items()}
SWITCH_AFTER = {"C": CaseFlow.after_committee, "K": CaseFlow.after_caleol, "R": CaseFlow.after_reply}
NODE_OF = {"D": "diagnostic", "C": "committee", "P": "proposal", "K": "caleol", "R": "reply", "L": "lease"}
EPS = timedelta(milliseconds=5)
TASK_DEFAULTS = {f.attname: None for f in Task._meta.concrete_fields}
TIMEOUT_NODES = {
    name: Task._meta.get_field("flow_task").to_python(f"workflows/flows.CaseFlow.{name}__timeout") for name in STEPS
}
CASE_STATE_FIELDS = (
    "status",
    "designated_landlord_id",
    "target_reservataire_id",
    "refusal_count",
    "dalo_loss_review_pending",
    "closed_at",
    "closure_reason",
    "closure_comment",
)
DIAGNOSTIC_FILLED = {
    "family_situation": "Situation familiale décrite lors de l'entretien (fictif).",
    "social_narrative": "Évaluation sociale détaillée (texte fictif de mesure).",
    "committee_synthesis": "Ménage à reloger en priorité (synthèse fictive).",
    "wishes": "Proche des écoles et des transports.",
    "recommendation": "Logement ordinaire avec accompagnement léger.",
}
TYPOLOGIES = ["T1", "T2", "T2", "T3", "T3", "T3", "T4", "T4", "T5"]
SITUATIONS = [s for s in C.HousingSituation.values if s != C.HousingSituation.OWNER]
CRITERIA = ["b", "c", "i", "i", "j", "h", "d_bis", "a", "e", "k"]
REFUSAL_MOTIVES = [C.RefusalMotive.LOCATION, C.RefusalMotive.SIZE, C.RefusalMotive.NEIGHBOURHOOD]
URGENCIES = [C.Urgency.LOW, C.Urgency.MEDIUM, C.Urgency.MEDIUM, C.Urgency.HIGH, C.Urgency.CRITICAL]


@contextmanager
def historic_dates(*models):
    """Let the generator write past creation dates into auto_now_add fields."""
    fields = [f for m in models for f in m._meta.concrete_fields if getattr(f, "auto_now_add", False)]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f in fields:
            f.auto_now_add = True


@dataclass
class TaskPlan:
    node: object
    kind: str
    status: str
    created: object
    started: object = None
    finished: object = None
    owner_id: int | None = None
    codename: str | None = None
    scheduled: object = None
    watched: object = None  # for a deadline boundary timer: the human TaskPlan it watches


@dataclass
class ProposalPlan:
    landlord_id: int
    agent_id: int
    made_at: object
    decision: str | None = None
    decided_at: object = None
    answer: str | None = None
    replied_at: object = None
    leased_at: object = None
    motive: str = ""


@dataclass
class CasePlan:
    index: int
    epci: object
    commune: object
    org_id: int
    referent_id: int
    path: str
    is_dalo: bool
    is_protected: bool
    flagged_at: object
    states: list = field(default_factory=list)  # (date, user, reason, case fields)
    diagnostic_states: list = field(default_factory=list)  # (date, user, reason, filled?, completed_at)
    reviews: list = field(default_factory=list)  # (date, user, outcome, values)
    proposals: list = field(default_factory=list)
    tasks: list = field(default_factory=list)
    process_status: str = PROCESS.NEW
    process_finished: object = None
    open_node: str | None = None
    human: object = None  # the TaskPlan of the latest human step
    step_opened: tuple = ()  # (date, user, reason) of the current step's opening
    designated_at: tuple = ()  # (date, user, reason) of the designation
    fields: dict = field(default_factory=dict)  # the case's current state


class CaseGenerator:
    def __init__(self, territory, rng: random.Random, now):
        self.t = territory
        self.rng = rng
        self.now = now
        self.path_names = [p[0] for p in PATHS]
        self.path_weights = [p[1] for p in PATHS]
        self.path_steps = {p[0]: p[2] for p in PATHS}
        self.epci_weights = [e.share for e in territory.epcis]
        self.ccas_of = {}
        for e in territory.epcis:
            for org in e.orgs["ccas"]:
                for commune in org.communes.all():
                    self.ccas_of[commune.pk] = org.pk
        self.commune_pop = {}

    # --- planning ----------------------------------------------------------------------------------

    def _social_org(self, epci, commune):
        rng = self.rng
        if commune.pk in self.ccas_of and rng.random() < 0.5:
            return self.ccas_of[commune.pk]
        keys = [k for k in SOCIAL_SHARES if k != "ccas"]
        key = rng.choices(keys, [SOCIAL_SHARES[k] for k in keys])[0]
        org = epci.orgs[key]
        return (rng.choice(org) if isinstance(org, list) else org).pk

    def plan(self, index: int) -> CasePlan:
        rng, t = self.rng, self.t
        epci = rng.choices(t.epcis, self.epci_weights)[0]
        commune = rng.choices(epci.communes, epci.weights)[0]
        org_id = self._social_org(epci, commune)
        if org_id == t.big_org.pk and rng.random() < 0.01:
            referent = t.bench["bench.ts"].pk
        else:
            referent = rng.choice(t.users[(org_id, Role.SOCIAL_WORKER)])
        path = rng.choices(self.path_names, self.path_weights)[0]
        steps = self.path_steps[path]
        is_dalo = path == "dalo_loss_review" or rng.random() < 0.15
        gaps = [timedelta(days=rng.uniform(3, 45), seconds=rng.randint(0, 86399)) for _ in steps]
        closed = steps and (steps[-1] in ("L", "X") or steps[-1] in ("C:not_kept", "C:redirected", "K:inadmissible"))
        waiting = timedelta(days=rng.uniform(0.5, 60)) if not closed else timedelta(days=rng.uniform(1, 900))
        flagged_at = self.now - sum(gaps, timedelta()) - waiting
        plan = CasePlan(
            index=index,
            epci=epci,
            commune=commune,
            org_id=org_id,
            referent_id=referent,
            path=path,
            is_dalo=is_dalo,
            is_protected=rng.random() < 0.05,
            flagged_at=flagged_at,
        )
        self._simulate(plan, steps, gaps)
        return plan

    def _open(self, plan, node_name, at, actor, reason):
        human = TaskPlan(getattr(CaseFlow, node_name), "HUMAN", STATUS.NEW, at, codename=CODENAME_OF[node_name])
        # The step's deadline boundary (workflows/flows.py: non-interrupting OnTimeout), armed for a
        # moment still ahead so that the generated set does not start with a storm of due timers.
        ahead = max(at + timedelta(days=30), self.now + timedelta(hours=self.rng.uniform(1, 24 * 30)))
        timer = TaskPlan(TIMEOUT_NODES[node_name], "TIMER", STATUS.SCHEDULED, at + EPS, scheduled=ahead, watched=human)
        plan.tasks += [human, timer]
        plan.human = human
        plan.open_node = node_name
        plan.fields["status"] = STATUS_OF[node_name]
        plan.step_opened = (at, actor, reason)

    def _cancel_timer(self, plan, at):
        # viewflow cancels a step's boundary timer when the step finishes or is cancelled.
        timer = next(t for t in reversed(plan.tasks) if t.watched is plan.human)
        timer.status, timer.finished = STATUS.CANCELED, at

    def _end(self, plan, node, at):
        plan.tasks.append(TaskPlan(node, "END", STATUS.DONE, at, at + EPS, at + 2 * EPS))
        plan.process_status, plan.process_finished = PROCESS.DONE, at + 2 * EPS
        plan.open_node = None

    def _close(self, plan, at, reason, comment=""):
        plan.fields.update(status=C.CaseStatus.CLOSED, closed_at=at, closure_reason=reason, closure_comment=comment)

    def _simulate(self, plan, steps, gaps):
        rng, t = self.rng, self.t
        f = plan.fields
        f.update(
            status=C.CaseStatus.DIAGNOSTIC,
            designated_landlord_id=None,
            target_reservataire_id=None,
            refusal_count=0,
            dalo_loss_review_pending=False,
            closed_at=None,
            closure_reason="",
            closure_comment="",
        )
        at = plan.flagged_at
        reason = REASONS["flag"]
        plan.tasks.append(TaskPlan(CaseFlow.start, "START", STATUS.DONE, at, at, at + EPS))
        self._open(plan, "diagnostic", at + 2 * EPS, plan.referent_id, reason)
        plan.states.append((at, plan.referent_id, reason, dict(f)))
        plan.diagnostic_states.append((at, plan.referent_id, reason, False, None))
        agent = None
        for step, gap in zip(steps, gaps, strict=True):
            at = at + gap
            kind, _, detail = step.partition(":")
            reason = REASONS[kind]
            if kind == "X":  # closed by the referent: the open step is cancelled with the process
                task = plan.human
                task.status, task.finished = STATUS.CANCELED, at
                self._cancel_timer(plan, at)
                plan.process_status, plan.process_finished = PROCESS.CANCELED, at + EPS
                plan.open_node = None
                self._close(plan, at, C.ClosureReason.WITHDRAWN, "Le ménage ne donne plus suite (fictif).")
                plan.states.append((at, plan.referent_id, reason, dict(f)))
                break
            actor = {
                "D": plan.referent_id,
                "C": rng.choice(t.commission_users[plan.epci.siren]),
            }.get(kind, agent)
            task = plan.human
            task.status, task.owner_id = STATUS.DONE, actor
            task.started, task.finished = at - timedelta(minutes=rng.randint(2, 40)), at
            self._cancel_timer(plan, at + EPS / 2)
            nxt = at + 2 * EPS
            if kind in SWITCH_AFTER:
                plan.tasks.append(TaskPlan(SWITCH_AFTER[kind], "SWITCH", STATUS.DONE, at + EPS, None, nxt))
                nxt += EPS
            if kind == "D":
                plan.diagnostic_states.append((at, actor, reason, True, at))
                self._open(plan, "committee", nxt, actor, reason)
            elif kind == "C":
                values = self._review_values(plan, detail)
                plan.reviews.append((at, actor, detail, values))
                if detail == Outcome.LABELLED:
                    f["designated_landlord_id"] = values["designated_landlord_id"]
                    f["target_reservataire_id"] = values["target_reservataire_id"]
                    plan.designated_at = (at, actor, reason)
                    landlord = values["designated_landlord_id"]
                    agent = rng.choice(t.users[(landlord, Role.LANDLORD_AGENT)])
                    self._open(plan, "proposal", nxt, actor, reason)
                elif detail == Outcome.ADJOURNED:
                    plan.diagnostic_states.append((at, actor, reason, True, None))
                    self._open(plan, "diagnostic", nxt, actor, reason)
                else:
                    closure = C.ClosureReason.NOT_KEPT if detail == Outcome.NOT_KEPT else C.ClosureReason.REDIRECTED
                    comment = values.get("reason") if detail == Outcome.NOT_KEPT else "SIAO"
                    self._close(plan, at, closure, comment)
                    self._end(plan, CaseFlow.closed, nxt)
            elif kind == "P":
                plan.proposals.append(ProposalPlan(f["designated_landlord_id"], agent, at))
                self._open(plan, "caleol", nxt, actor, reason)
            elif kind == "K":
                proposal = plan.proposals[-1]
                proposal.decision, proposal.decided_at = detail, at
                if detail == Decision.ALLOCATED:
                    self._open(plan, "reply", nxt, actor, reason)
                elif detail == Decision.NOT_ALLOCATED:
                    self._open(plan, "proposal", nxt, actor, reason)
                else:
                    self._close(plan, at, C.ClosureReason.INADMISSIBLE, "Ressources supérieures au plafond")
                    self._end(plan, CaseFlow.closed, nxt)
            elif kind == "R":
                proposal = plan.proposals[-1]
                proposal.answer, proposal.replied_at = ("refused" if detail.startswith("refused") else detail), at
                if detail == "refused_dalo":  # no legitimate motive: the committee rules on the DALO benefit
                    proposal.motive = C.RefusalMotive.LOCATION
                elif detail != Answer.ACCEPTED:  # a DALO household refusing for a legitimate motive stays on
                    proposal.motive = C.RefusalMotive.SIZE if plan.is_dalo else rng.choice(REFUSAL_MOTIVES)
                if detail == Answer.ACCEPTED:
                    self._open(plan, "lease", nxt, actor, reason)
                else:
                    f["refusal_count"] += 1
                    if detail == "refused_dalo":
                        f["dalo_loss_review_pending"] = True
                        self._open(plan, "committee", nxt, actor, reason)
                    else:
                        self._open(plan, "proposal", nxt, actor, reason)
            elif kind == "L":
                plan.proposals[-1].leased_at = at
                self._close(plan, at, C.ClosureReason.REHOUSED_SOCIAL)
                self._end(plan, CaseFlow.rehoused, nxt)
            plan.states.append((at, actor, reason, dict(f)))
        # Some open steps are taken: the referent's diagnostics, the landlord's steps.
        last = plan.human
        if plan.open_node and last.status == STATUS.NEW and rng.random() < 0.3:
            if plan.open_node == "diagnostic":
                last.status, last.owner_id = STATUS.ASSIGNED, plan.referent_id
            elif plan.open_node in ("proposal", "caleol", "lease") and agent:
                last.status, last.owner_id = STATUS.ASSIGNED, agent

    def _review_values(self, plan, outcome):
        rng, t = self.rng, self.t
        if outcome == Outcome.LABELLED:
            landlord = t.national_landlord.pk if rng.random() < 0.35 else rng.choice(plan.epci.orgs["landlords"]).pk
            r = rng.random()
            target = t.action_logement.pk if r < 0.3 else plan.epci.orgs["state"].pk if r < 0.5 else None
            return {
                "orientation": C.Orientation.ORDINARY,
                "designated_landlord_id": landlord,
                "target_reservataire_id": target,
                "support_measure": rng.choice(C.SupportMeasure.values),
            }
        if outcome == Outcome.ADJOURNED:
            return {
                "missing_items": "Avis d'imposition",
                "adjourned_until": (plan.flagged_at + timedelta(days=90)).date(),
            }
        if outcome == Outcome.NOT_KEPT:
            return {"reason": "Ménage déjà relogé par ailleurs (fictif)."}
        return {"redirected_to": C.RedirectTarget.SIAO, "reason": "Hébergement d'abord (fictif)."}

    # --- writing ----------------------------------------------------------------------------------

    def write_batch(self, start: int, count: int) -> dict:
        plans = [self.plan(start + i) for i in range(count)]
        batch = HistoryBatch()
        with transaction.atomic(), historic_dates(Household, Case, CommitteeReview, DwellingOffer, Proposal):
            if connection.vendor == "postgresql":
                # Foreign keys checked as rows arrive rather than all at commit, while the global
                # audit chain's head is locked (see audit.bulk._append).
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            self._households(plans, batch)
            self._cases(plans, batch)
            self._records(plans, batch)
            self._proposals(plans, batch)
            self._processes(plans, batch)
            grants = self._grants(plans, batch)
            chained = batch.chain()
        return {"cases": count, "grants": grants, "audit_entries": chained}

    def _households(self, plans, batch):
        rng = self.rng
        households, states = [], []
        for p in plans:
            dep = p.commune.departement.zfill(3)[:3]
            when = p.flagged_at - timedelta(minutes=5)
            h = Household(
                nud=f"{dep}{when:%y%m}B{p.index // 100000:04d}{p.index % 100000:05d}X",
                applicant_last_name=rng.choice(LAST_NAMES),
                applicant_first_name=rng.choice(FIRST_NAMES),
                applicant_birth_date=(when - timedelta(days=rng.randint(19 * 365, 70 * 365))).date(),
                phone=f"06{rng.randint(0, 99999999):08d}",
                address=f"{rng.randint(1, 200)} rue Fictive",
                commune_id=p.commune.pk,
                housing_situation=rng.choice(SITUATIONS),
                housing_since=(when - timedelta(days=rng.randint(30, 2000))).date(),
                monthly_wages=Decimal(rng.choice([0, 0, 800, 1200, 1600])),
                monthly_rsa=Decimal(rng.choice([0, 0, 607])),
                monthly_family_benefits=Decimal(rng.choice([0, 150, 300])),
                created_at=when,
            )
            p.household = h
            households.append(h)
            states.append([State("+", when, p.referent_id, "Enregistrement du ménage")])
        bulk_create_with_states(households, Household, states, batch=batch)
        members, mstates = [], []
        for p in plans:
            when = p.flagged_at - timedelta(minutes=5)
            n_children = rng.choice([0, 0, 1, 1, 2, 3])
            people = ([C.Relationship.SPOUSE] if rng.random() < 0.4 else []) + [C.Relationship.CHILD] * n_children
            for rel in people:
                age = rng.randint(20, 60) if rel == C.Relationship.SPOUSE else rng.randint(0, 17)
                members.append(
                    HouseholdMember(
                        household_id=p.household.pk,
                        first_name=rng.choice(FIRST_NAMES),
                        last_name=p.household.applicant_last_name,
                        relationship=rel,
                        birth_date=(when - timedelta(days=age * 365 + rng.randint(0, 364))).date(),
                    )
                )
                mstates.append([State("+", when, p.referent_id, "Enregistrement du ménage")])
        bulk_create_with_states(members, HouseholdMember, mstates, batch=batch)

    def _cases(self, plans, batch):
        cases, states = [], []
        for p in plans:
            case = Case(
                household_id=p.household.pk,
                organisation_id=p.org_id,
                referent_id=p.referent_id,
                is_protected=p.is_protected,
                is_dalo=p.is_dalo,
                comed_decision_date=(p.flagged_at - timedelta(days=40)).date() if p.is_dalo else None,
                dalo_offer_deadline=(p.flagged_at + timedelta(days=50)).date() if p.is_dalo else None,
                created_at=p.flagged_at,
                decided_in_committee=bool(p.reviews),
                **p.fields,
            )
            p.case = case
            cases.append(case)
            final = p.fields
            states.append(
                [
                    State(
                        "+" if i == 0 else "~",
                        when,
                        user,
                        reason,
                        {k: v for k, v in fields.items() if final[k] != v},
                    )
                    for i, (when, user, reason, fields) in enumerate(p.states)
                ]
            )
        bulk_create_with_states(cases, Case, states, batch=batch)

    def _records(self, plans, batch):
        rng = self.rng
        criteria, cstates, diagnostics, dstates, reviews, rstates = [], [], [], [], [], []
        for p in plans:
            codes = {"dalo"} if p.is_dalo else set()
            codes |= set(rng.sample(CRITERIA, rng.choice([1, 1, 2])))
            if p.is_protected:
                codes.add("e")
            for code in sorted(codes):
                source = C.CriterionSource.DALO_DECISION if code == "dalo" else C.CriterionSource.SOCIAL_WORKER
                criteria.append(
                    CaseCriterion(case_id=p.case.pk, code=code, source=source, evidence_note="Pièce fictive")
                )
                cstates.append([State("+", p.flagged_at, p.referent_id, REASONS["flag"])])
            _, _, _, filled, completed = p.diagnostic_states[-1]
            diagnostic = Diagnostic(case_id=p.case.pk, completed_at=completed)  # as case_flag creates it
            if filled:
                diagnostic.monthly_resources = p.household.monthly_income
                diagnostic.urgency = rng.choice(URGENCIES)
                diagnostic.recommended_typology = rng.choice(TYPOLOGIES)
                diagnostic.support_needed = rng.choice(C.SupportMeasure.values)
                for name, value in DIAGNOSTIC_FILLED.items():
                    setattr(diagnostic, name, value)
            final = {f.attname: getattr(diagnostic, f.attname) for f in Diagnostic._meta.concrete_fields}
            blank = {k: "" for k in DIAGNOSTIC_FILLED} | {
                "recommended_typology": "",
                "support_needed": C.SupportMeasure.NONE,
                "urgency": C.Urgency.MEDIUM,
                "monthly_resources": Decimal("0"),
            }
            states = []
            for i, (when, user, reason, was_filled, was_completed) in enumerate(p.diagnostic_states):
                values = (final if was_filled else {**final, **blank}) | {"completed_at": was_completed}
                states.append(
                    State(
                        "+" if i == 0 else "~", when, user, reason, {k: v for k, v in values.items() if final[k] != v}
                    )
                )
            diagnostics.append(diagnostic)
            dstates.append(states)
            for when, user, outcome, values in p.reviews:
                reviews.append(
                    CommitteeReview(
                        case_id=p.case.pk,
                        kind=CommitteeReview.Kind.PRIORITY,
                        outcome=outcome,
                        decided_by_id=user,
                        decided_at=when,
                        **values,
                    )
                )
                rstates.append([State("+", when, user, REASONS["C"])])
        bulk_create_with_states(criteria, CaseCriterion, cstates, batch=batch)
        bulk_create_with_states(diagnostics, Diagnostic, dstates, batch=batch)
        bulk_create_with_states(reviews, CommitteeReview, rstates, batch=batch)

    def _proposals(self, plans, batch):
        rng = self.rng
        items = [(p, pp) for p in plans for pp in p.proposals]
        if not items:
            return
        dwellings, dw_states = [], []
        for p, pp in items:
            typology = rng.choice(TYPOLOGIES)
            size = int(typology[1])
            dwellings.append(
                Dwelling(
                    landlord_id=pp.landlord_id,
                    rpls_id=f"RPLS{rng.randint(0, 10**9):09d}",
                    address=f"{rng.randint(1, 300)} avenue de la Mesure",
                    commune_id=rng.choice(p.epci.communes[:20]).pk,
                    typology=typology,
                    surface_m2=Decimal(18 + 14 * size),
                    floor=rng.randint(0, 6),
                    has_lift=rng.random() < 0.5,
                    rent=Decimal(220 + 70 * size),
                    charges=Decimal(40 + 12 * size),
                    available_from=(pp.made_at - timedelta(days=20)).date(),
                )
            )
            dw_states.append([State("+", pp.made_at - timedelta(days=30), pp.agent_id, "Logement enregistré")])
        bulk_create_with_states(dwellings, Dwelling, dw_states, batch=batch)
        offers, of_states = [], []
        for (p, pp), dwelling in zip(items, dwellings, strict=True):
            pp.dwelling = dwelling
            current = pp is p.proposals[-1] and p.fields["closed_at"] is None and pp.answer in (None, Answer.ACCEPTED)
            if pp.leased_at:
                status, closed_at = C.OfferStatus.LET, pp.leased_at
            elif current and pp.decision != Decision.NOT_ALLOCATED:
                status, closed_at = C.OfferStatus.OPEN, None
            else:
                status, closed_at = C.OfferStatus.WITHDRAWN, pp.replied_at or pp.decided_at or p.fields["closed_at"]
            offer = DwellingOffer(
                dwelling_id=dwelling.pk,
                status=status,
                fewer_candidates_reason=C.FewerCandidatesReason.DALO_PREFET
                if p.is_dalo
                else C.FewerCandidatesReason.TOO_FEW,
                fewer_candidates_detail="" if p.is_dalo else "Seul ménage prioritaire pour ce logement (fictif).",
                created_by_id=pp.agent_id,
                created_at=pp.made_at,
                closed_at=closed_at,
            )
            offers.append(offer)
            states = [State("+", pp.made_at, pp.agent_id, REASONS["P"])]
            if closed_at:
                states[0].changes = {"status": C.OfferStatus.OPEN, "closed_at": None}
                states.append(
                    State("~", closed_at, pp.agent_id, REASONS["L"] if pp.leased_at else "Mise en location close")
                )
            of_states.append(states)
        bulk_create_with_states(offers, DwellingOffer, of_states, batch=batch)
        proposals, pr_states = [], []
        for (p, pp), offer in zip(items, offers, strict=True):
            notified = (pp.made_at + timedelta(days=1)).date()
            proposal = Proposal(
                case_id=p.case.pk,
                dwelling_id=pp.dwelling.pk,
                landlord_id=pp.landlord_id,
                offer_id=offer.pk,
                estimated_apl=Decimal(rng.choice([0, 120, 250])),
                notified_on=notified,
                reply_deadline=notified + timedelta(days=10),
                dalo_notice_given_at=pp.made_at - timedelta(hours=2) if p.is_dalo else None,
                lease_signed_on=pp.leased_at.date() if pp.leased_at else None,
                created_by_id=pp.agent_id,
                created_at=pp.made_at,
            )
            pp.proposal = proposal
            proposals.append(proposal)
            states = [State("+", pp.made_at, pp.agent_id, REASONS["P"])]
            if pp.leased_at:
                states[0].changes = {"lease_signed_on": None}
                states.append(State("~", pp.leased_at, pp.agent_id, REASONS["L"]))
            pr_states.append(states)
        bulk_create_with_states(proposals, Proposal, pr_states, batch=batch)
        decisions, de_states, replies, re_states = [], [], [], []
        for _p, pp in items:
            if pp.decision:
                values = {}
                if pp.decision == Decision.NOT_ALLOCATED:
                    values["non_allocation_reason"] = rng.choice(
                        [r for r in C.NonAllocationReason.values if r != C.NonAllocationReason.OTHER]
                    )
                elif pp.decision == Decision.INADMISSIBLE:
                    values["inadmissibility_reason"] = C.InadmissibilityReason.INCOME_OVER_CEILING
                decisions.append(
                    CaleolDecision(
                        proposal_id=pp.proposal.pk, decision=pp.decision, decided_on=pp.decided_at.date(), **values
                    )
                )
                de_states.append([State("+", pp.decided_at, pp.agent_id, REASONS["K"])])
            if pp.answer:
                refused = pp.answer == Answer.REFUSED
                motive = pp.motive if refused else ""
                replies.append(
                    HouseholdReply(
                        proposal_id=pp.proposal.pk,
                        answer=pp.answer,
                        refusal_motive=motive,
                        legitimate=(C.REFUSAL_LEGITIMATE_FOR_DALO.get(motive) if refused else None),
                        replied_on=max(pp.replied_at.date(), pp.proposal.notified_on),
                    )
                )
                re_states.append([State("+", pp.replied_at, pp.agent_id, REASONS["R"])])
        bulk_create_with_states(decisions, CaleolDecision, de_states, batch=batch)
        bulk_create_with_states(replies, HouseholdReply, re_states, batch=batch)

    def _processes(self, plans, batch):
        processes, states = [], []
        for p in plans:
            process = CaseProcess(
                flow_class=CaseFlow,
                case_id=p.case.pk,
                status=p.process_status,
                created=p.flagged_at,
                finished=p.process_finished,
                data={},
            )
            processes.append(process)
            first = State("+", p.flagged_at, p.referent_id, REASONS["flag"])
            if p.process_finished:
                first.changes = {"status": PROCESS.NEW, "finished": None}
                last = p.states[-1]
                states.append([first, State("~", p.process_finished, last[1], last[2])])
            else:
                states.append([first])
        bulk_create_with_states(processes, CaseProcess, states, batch=batch)
        # Rows as dicts rather than Task instances: tens of thousands per batch. The boundary timers
        # name their step's id in their data, so they go in after the other tasks.
        tasks, timers, links = [], [], []
        token = Token("start")
        ct = self.t.case_content_type
        for p, process in zip(plans, processes, strict=True):
            previous = None
            rows = {}
            for tp in p.tasks:
                row = dict(TASK_DEFAULTS)
                row.update(
                    process_id=process.pk,
                    flow_task=tp.node,
                    flow_task_type=tp.kind,
                    status=tp.status,
                    created=tp.created,
                    started=tp.started,
                    finished=tp.finished,
                    scheduled=tp.scheduled,
                    token=token,
                    owner_id=tp.owner_id,
                    data={},
                )
                rows[id(tp)] = row
                if tp.codename:
                    row["owner_permission"] = f"cases.{tp.codename}"
                    row["owner_permission_content_type_id"] = ct
                    row["owner_permission_obj_pk"] = str(p.case.pk)
                if tp.watched is not None:
                    timers.append((row, rows[id(tp.watched)]))
                    continue
                tasks.append(row)
                links.append((row, previous))
                previous = row
        insert_dicts(Task, tasks)
        for row, step in timers:
            row["data"] = {"watched_task": step["id"]}
        insert_dicts(Task, [row for row, _step in timers])
        links += timers
        insert_dicts(
            Task.previous.through,
            [{"from_task_id": row["id"], "to_task_id": prev["id"]} for row, prev in links if prev is not None],
        )

    def wanted_grants(self, p) -> list:
        """(group pk, codename, (date, user, reason)) the case holds now, as sync_case_grants decides."""
        t, f = self.t, p.fields
        if f["closed_at"] is not None or f["status"] == C.CaseStatus.CLOSED:
            return []
        wanted = []
        codename = CODENAME_OF.get(p.open_node)
        landlord = f["designated_landlord_id"]
        if codename == "do_diagnostic":
            groups = [t.group(p.org_id, Role.SOCIAL_WORKER), t.group(p.org_id, Role.SUPERVISOR)]
        elif codename == "review_in_committee":
            groups = t.commission_groups.get(p.commune.pk, [])
        else:
            groups = [t.group(landlord, Role.LANDLORD_AGENT)] if landlord else []
            if codename == "record_reply":
                groups = groups + [t.group(p.org_id, Role.SOCIAL_WORKER)]
        wanted += [(g, codename, p.step_opened) for g in groups]
        if landlord:
            wanted.append((t.group(landlord, Role.LANDLORD_AGENT), "view_case", p.designated_at))
        if f["target_reservataire_id"]:
            wanted.append((t.group(f["target_reservataire_id"], Role.RESERVATAIRE_AGENT), "view_case", p.designated_at))
        seen, unique = set(), []
        for group, code, origin in wanted:
            if (group, code) not in seen:
                seen.add((group, code))
                unique.append((group, code, origin))
        return unique

    def _grants(self, plans, batch) -> int:
        rows, states = [], []
        perms = self.t.permission_ids
        for p in plans:
            for group, code, (when, user, reason) in self.wanted_grants(p):
                rows.append(
                    GroupObjectPermission(
                        group_id=group,
                        permission_id=perms[code],
                        content_type_id=self.t.case_content_type,
                        object_pk=str(p.case.pk),
                    )
                )
                states.append([State("+", when, user, reason)])
        bulk_create_with_states(rows, GroupObjectPermission, states, batch=batch)
        return len(rows)


def counts_by_status() -> dict:
    result = defaultdict(int)
    for status in Case.objects.values_list("status", flat=True).iterator():
        result[status] += 1
    return dict(result)
