"""The case policy: one object answers "may this user do this on this case?" and "which cases?".

Every page, form, export, API endpoint and notification asks it. Deny by default: a user with no
active membership sees nothing, and a Django superuser gets no case through that flag alone (the
superuser flag is for running the platform, not for reading social files). Scope is one SQL filter
built from the user's memberships: no per-row checks, whatever the number of cases or grants.

The rules (issue "who sees what"):
- social worker: the cases of their organisation and those they are the referent of;
- supervisor: all cases of their organisation;
- commission member or chair: cases on the agenda of their committee and the decided cases of its
  territory (`PPGDID_COMMISSION_SCOPE`, a hook the committees app fills); once a case is closed, only
  the members sitting for the case's (referent) organisation keep it;
- landlord agent: open cases designated to its organisation, and open cases carrying one of its
  proposals still in the running (not refused, lapsed, passed down, not allocated or withdrawn);
- réservataire agent: open cases oriented to its contingent;
- auditor: every case (each read is logged, see `permissions.reads`);
- reception agent: the open cases of its organisation still at the diagnostic step, the time to
  complete what was recorded at flagging (the matrix limits it to those categories); not afterwards;
- territory and system administrators: no case.

Closing ends partner access (issue 15): a closed case, whatever the reason (rehoused included), and
a case whose proposal by a landlord has ended while it goes on with another, leave the partners'
scope: 404 on its pages, timeline, exports and API, and gone from their lists and counts. The
landlord keeps its own proposal, CALEOL and reply records through its dwelling pages and the API's
proposal list (web.dwellings.views, api.views.ProposalList), which read proposals by landlord, not
the case file. Grants are revoked in the closing transaction (workflows.services._close).
"""

import functools
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db.models import BooleanField, CharField, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models import Case as CaseWhen
from django.db.models.functions import Cast
from django.db.models.lookups import IsNull
from django.http import Http404
from django.utils import timezone
from django.utils.module_loading import import_string
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases.choices import CaleolDecisionType, CaseStatus, OfferStatus, ReplyAnswer
from cases.models import Case, Commune, HouseholdMember, Proposal

from . import reads
from .middleware import current_request_id
from .models import BreakGlassAccess, Membership, active_delegations
from .roles import COMMISSION_ROLES, Role

log = logging.getLogger("ppgdid.access")


class Action:
    VIEW = "view"
    CHANGE = "change"  # household and case data, criteria
    CLOSE = "close"
    PROTECT = "protect"  # set or lift the "protected case" flag
    SHARE = "share"  # share one hidden category with one organisation
    BREAK_GLASS = "break_glass"  # open the masked data of a protected case, with a reason


CASE_READERS = {
    Role.RECEPTION,
    Role.SOCIAL_WORKER,
    Role.SUPERVISOR,
    Role.COMMISSION_MEMBER,
    Role.COMMISSION_CHAIR,
    Role.LANDLORD_AGENT,
    Role.RESERVATAIRE_AGENT,
    Role.AUDITOR,
}

# Which roles may do which action on a case in their scope.
ACTION_ROLES = {
    Action.VIEW: CASE_READERS,
    Action.CHANGE: {Role.SOCIAL_WORKER, Role.SUPERVISOR},
    Action.CLOSE: {Role.SOCIAL_WORKER, Role.SUPERVISOR, Role.COMMISSION_CHAIR},
    Action.PROTECT: {Role.SOCIAL_WORKER, Role.SUPERVISOR},
    Action.SHARE: {Role.SOCIAL_WORKER},
    Action.BREAK_GLASS: {Role.SUPERVISOR, Role.AUDITOR},
}


@dataclass(frozen=True)
class Grant:
    """One active membership, as the policy reads it."""

    role: str
    organisation_id: int
    commune_ids: frozenset
    # The user stands in today for a colleague of this organisation (permissions.models.Delegation).
    delegated: bool = False


def memberships_of(user) -> list[Grant]:
    """The user's active memberships, loaded once per user object (one query)."""
    cached = getattr(user, "_ppgdid_grants", None)
    if cached is not None:
        return cached
    if not user or not user.is_authenticated:
        return []
    load_memberships([user])
    return user._ppgdid_grants


def load_memberships(users) -> None:
    """Load the memberships of every user not loaded yet, in one query for all of them."""
    pending = {u.pk: u for u in users if u is not None and getattr(u, "_ppgdid_grants", None) is None}
    if not pending:
        return
    grants = grants_of(list(pending))
    for user_id, user in pending.items():
        user._ppgdid_grants = grants.get(user_id, [])


def grants_of(user_ids) -> dict[int, list[Grant]]:
    """{user id: their active memberships as Grants} for `user_ids` (a list, or a subquery of ids so that
    the users are chosen in the same query); users without an active membership are left out."""
    rows = (
        Membership.objects.filter(user_id__in=user_ids, is_active=True)
        .annotate(delegated=delegated_flag())
        .values_list(
            "user_id",
            "pk",
            "role",
            "organisation_id",
            "communes__insee_code",
            "organisation__communes__insee_code",
            "delegated",
        )
    )
    found: dict[int, dict[int, tuple]] = {}
    delegated_in: dict[int, set] = {}
    for user_id, pk, role, org_id, own_commune, org_commune, delegated in rows:
        if delegated:
            delegated_in.setdefault(user_id, set()).add(org_id)
        _role, _org, own, org = found.setdefault(user_id, {}).setdefault(pk, (role, org_id, set(), set()))
        if own_commune:
            own.add(own_commune)
        if org_commune:
            org.add(org_commune)
    # A membership's territory is its own communes, or else its organisation's.
    return {
        user_id: [
            Grant(role, org_id, frozenset(own or org), org_id in delegated_in.get(user_id, ()))
            for _pk, (role, org_id, own, org) in sorted(memberships.items())
        ]
        for user_id, memberships in found.items()
    }


def roles_of(user) -> set[str]:
    return {g.role for g in memberships_of(user)}


def territory_communes(user) -> QuerySet:
    """The communes of the user's territory (every active membership's): what their commune pickers
    offer and accept. A superuser: every commune."""
    if user.is_superuser:
        return Commune.objects.all()
    return Commune.objects.filter(pk__in=set().union(*(g.commune_ids for g in memberships_of(user))))


def territory_commission_scope(user, grant: Grant) -> Q:
    """Default commission scope until committees keep agendas: the territory's cases waiting for the
    committee, and the territory's cases a committee has decided on.

    The committees app replaces this through the `PPGDID_COMMISSION_SCOPE` setting (dotted path to a
    function `(user, grant) -> Q` on Case). Such a Q must not join to-many relations (use Exists), so
    the case list stays one query without duplicate rows.
    """
    in_territory = Q(household__commune_id__in=grant.commune_ids)
    on_agenda = Q(status=CaseStatus.COMMITTEE)
    decided = Q(decided_in_committee=True)  # a CommitteeReview exists (a column: see cases.models.Case)
    return in_territory & (on_agenda | decided) & still_followed(grant)


def still_followed(grant: Grant) -> Q:
    """Closing ends partner access: a closed case stays only with members of its own organisation.
    A row condition on the case (no join), so the list indexes still serve the scope."""
    return Q(closed_at__isnull=True) | Q(organisation_id=grant.organisation_id)


def commission_scope(user, grant: Grant) -> Q:
    path = getattr(settings, "PPGDID_COMMISSION_SCOPE", "permissions.policy.territory_commission_scope")
    return import_string(path)(user, grant)


@functools.lru_cache(maxsize=4096)
def landlord_scope(organisation_id: int) -> Q:
    """A landlord organisation's cases: open ones designated to it, and open ones carrying one of its
    proposals still in the running. One Q object per organisation (Django never mutates a Q it is
    given), so all its agents share it and `users_who_can` asks one flag for the forty agents a
    designation notifies. A closed case, or one whose proposal by this landlord ended while another
    landlord goes on with it, is out of scope (its proposal records stay on the dwelling pages)."""
    # A probe per case row (a scalar subquery, index proposal_landlord_case), not EXISTS:
    # PostgreSQL would hash all the landlord's proposals on every query, a cost that grows
    # with its lifetime proposals, where the list walks only a page's worth of cases. The
    # proposal's reply, decision and round are one-to-one rows read by their unique keys.
    live_proposals = Proposal.objects.filter(case=OuterRef("pk"), landlord_id=organisation_id).filter(
        Q(reply__isnull=True) | Q(reply__answer=ReplyAnswer.ACCEPTED),
        Q(caleol_decision__isnull=True)
        | ~Q(caleol_decision__decision__in=[CaleolDecisionType.NOT_ALLOCATED, CaleolDecisionType.INADMISSIBLE]),
        Q(offer__isnull=True) | ~Q(offer__status=OfferStatus.WITHDRAWN),
    )
    live_proposal = IsNull(Subquery(live_proposals.order_by().values("pk")[:1]), False)
    # A designation and a proposal both follow a committee decision (workflows.services), so
    # the first condition only restates the rule; it lets the list walk the examined cases
    # alone (index case_decided_list) instead of every recent case still at diagnostic.
    return Q(decided_in_committee=True, closed_at__isnull=True) & (
        Q(designated_landlord_id=organisation_id) | live_proposal
    )


EVERYTHING = Q()

# What standing in for a colleague allows on the cases of their taken steps: see them, do the steps.
DELEGATED_ACTIONS = {Action.VIEW, Action.CHANGE}


def delegated_flag():
    """SQL flag on a Membership row: its user stands in today for someone of its organisation (read
    with the memberships, so a user with no delegation pays no query for it)."""
    return Exists(
        active_delegations(timezone.localdate()).filter(
            delegate_id=OuterRef("user_id"), organisation_id=OuterRef("organisation_id")
        )
    )


def delegators_of(user, organisation_id: int | None = None) -> set[int]:
    """The ids of the colleagues `user` stands in for today (in one organisation, if given); one query
    per user object, only for a user whose memberships say they stand in for someone."""
    if not any(g.delegated for g in memberships_of(user)):
        return set()
    cached = getattr(user, "_ppgdid_delegators", None)
    if cached is None:
        rows = active_delegations(timezone.localdate()).filter(delegate_id=user.pk)
        cached = user._ppgdid_delegators = list(rows.values_list("delegator_id", "organisation_id"))
    return {d for d, org in cached if organisation_id is None or org == organisation_id}


def delegated_steps_q(user, organisation_id: int) -> Q:
    """The cases carrying an open step taken by someone `user` stands in for today. The case is the
    step's permission object (every step of CaseFlow declares `.Permission(..., obj=case)`)."""
    steps = Task.objects.filter(
        owner_id__in=sorted(delegators_of(user, organisation_id)),
        status__in=(STATUS.ASSIGNED, STATUS.STARTED),
        flow_task_type="HUMAN",
        owner_permission_obj_pk=Cast(OuterRef("pk"), CharField()),
    )
    return Q(Exists(steps))


class CasePolicy:
    def scope_q(self, user, grant: Grant) -> Q | None:
        """The cases one membership reaches, as a filter on Case (None: none)."""
        role = grant.role
        if role == Role.AUDITOR:
            return EVERYTHING
        if role == Role.SOCIAL_WORKER:
            return Q(organisation_id=grant.organisation_id) | Q(referent_id=user.pk)
        if role == Role.SUPERVISOR:
            return Q(organisation_id=grant.organisation_id)
        if role == Role.RECEPTION:
            return Q(organisation_id=grant.organisation_id, status=CaseStatus.DIAGNOSTIC, closed_at__isnull=True)
        if role in COMMISSION_ROLES:
            return commission_scope(user, grant)
        if role == Role.LANDLORD_AGENT:
            return landlord_scope(grant.organisation_id)
        if role == Role.RESERVATAIRE_AGENT:
            return Q(target_reservataire_id=grant.organisation_id, closed_at__isnull=True)
        return None

    def _grant_qs(self, user, action: str) -> list[tuple[Grant, Q]]:
        allowed = ACTION_ROLES.get(action, set())
        pairs = []
        for grant in memberships_of(user):
            if grant.role in allowed:
                q = self.scope_q(user, grant)
                if q is not None and grant.delegated and action in DELEGATED_ACTIONS:
                    q = q | delegated_steps_q(user, grant.organisation_id)
                if q is not None:
                    pairs.append((grant, q))
        return pairs

    def filter_q(self, user, action: str = Action.VIEW) -> Q | None:
        """The whole scope as one Q (None: nothing)."""
        q = None
        for _grant, grant_q in self._grant_qs(user, action):
            if grant_q == EVERYTHING:
                return EVERYTHING
            q = grant_q if q is None else q | grant_q
        return q

    def queryset_for(self, user, action: str = Action.VIEW) -> QuerySet:
        if not user or not user.is_authenticated or not user.is_active:
            return Case.objects.none()
        q = self.filter_q(user, action)
        if q is None:
            return Case.objects.none()
        return Case.objects.filter(q)

    def can(self, user, action: str, case) -> bool:
        reach = _preloaded_reach(user, case)
        allowed = ACTION_ROLES.get(action, set())
        if reach is not None and allowed <= CASE_READERS:
            # A membership's scope does not depend on the action, only which roles may act: the
            # memberships reaching the case (read with it by case_or_404) answer without a query.
            return any(grant.role in allowed for grant in reach)
        return self.queryset_for(user, action).filter(pk=case.pk).exists()

    def users_who_can(self, users, action: str, case) -> list:
        """The users among `users` who may do `action` on the case: two queries, however many users
        (their memberships, then one flag per distinct scope on the case row: the members of one
        committee or one organisation share theirs)."""
        candidates = [u for u in users if u.is_active]
        load_memberships(candidates)
        flags, column_of_user = self.scope_flags(candidates, action)
        if not flags:
            return []
        row = Case.objects.filter(pk=case.pk).values(**flags).first() or {}
        return [u for u in candidates if row.get(column_of_user.get(u.pk))]

    def scope_flags(self, users, action: str) -> tuple[dict, dict]:
        """({column: boolean expression on a Case row}, {user id: its column}) for users whose memberships
        are loaded: one column per distinct scope, users without one left out. Evaluated on one case row
        it says who may do `action` on it (users_who_can; the notification outbox puts it in its INSERT)."""
        column_of_scope, column_of_user = {}, {}
        for user in users:
            q = self.filter_q(user, action)
            if q is not None:
                column_of_user[user.pk] = column_of_scope.setdefault(q, f"can_{len(column_of_scope)}")
        return {column: _flag(q) for q, column in column_of_scope.items()}, column_of_user

    def reaching_grants(self, user, case, action: str = Action.VIEW) -> list[Grant]:
        """The memberships through which the user reaches this case (one query).

        Field visibility reads these, not all the user's roles: an agent who is a landlord agent in
        one organisation and a social worker in another sees a landlord-designated case as a landlord.
        """
        if action == Action.VIEW and (preloaded := _preloaded_reach(user, case)) is not None:
            return preloaded
        pairs = self._grant_qs(user, action)
        if not pairs or not user.is_active:
            return []
        annotations = {f"reach_{i}": _flag(q) for i, (_g, q) in enumerate(pairs)}
        row = Case.objects.filter(pk=case.pk).annotate(**annotations).values(*annotations).first()
        if row is None:
            return []
        return [grant for i, (grant, _q) in enumerate(pairs) if row[f"reach_{i}"]]

    def annotate_reach(self, queryset: QuerySet, user, action: str = Action.VIEW) -> tuple[QuerySet, list]:
        """For lists and exports: one boolean column per membership, in the same query as the rows.

        Returns the annotated queryset and the list of (column name, grant) to read back.
        """
        pairs = self._grant_qs(user, action)
        columns = [(f"_reach_{i}", grant) for i, (grant, _q) in enumerate(pairs)]
        annotations = {name: _flag(q) for (name, _g), (_grant, q) in zip(columns, pairs, strict=True)}
        return queryset.annotate(**annotations), columns


def _preloaded_reach(user, case) -> list[Grant] | None:
    """The memberships through which `user` views `case`, as case_or_404 read them with the case
    (None when not read; cases.models.Case.save drops them, since a write may change the scope)."""
    preloaded = getattr(case, "_ppgdid_reach", None)
    if preloaded is not None and preloaded[0] == user.pk and user.is_active:
        return preloaded[1]
    return None


def _flag(q: Q):
    if q == EVERYTHING:
        return Value(True, output_field=BooleanField())
    return CaseWhen(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())


policy = CasePolicy()


def roles_for_case(user, case, action: str = Action.VIEW) -> set[str]:
    """The roles through which `user` reaches `case` (cached per user object and case)."""
    cache = getattr(user, "_ppgdid_case_roles", None)
    if cache is None:
        cache = {}
        user._ppgdid_case_roles = cache
    key = (case.pk, action)
    if key not in cache:
        cache[key] = frozenset(g.role for g in policy.reaching_grants(user, case, action))
    return set(cache[key])


def log_denial(request_or_user, action: str, obj_type: str, obj_id) -> None:
    """Record a refused access without personal data: ids only, plus the request id."""
    user = getattr(request_or_user, "user", request_or_user)
    request_id = getattr(request_or_user, "request_id", None) or current_request_id() or "-"
    log.warning(
        "access denied user_id=%s action=%s object=%s:%s request_id=%s",
        getattr(user, "pk", None),
        action,
        obj_type,
        _safe_id(obj_id),
        request_id,
    )


def _safe_id(obj_id) -> str:
    # URL parts reach this function: keep only what an id looks like.
    text = str(obj_id)
    return text if text.isalnum() and len(text) <= 40 else "?"


def case_or_404(request, pk, *, action: str = Action.VIEW, section: str = "case", queryset=None):
    """The selector every case page uses: the case if in scope for `action`, else 404 (logged).

    Reads of protected cases and reads by auditors are logged (permissions.reads).
    """
    user = request.user
    qs = queryset if queryset is not None else policy.queryset_for(user, action)
    # One query brings the case, its list relations, the memberships that reach it and any open
    # break-the-glass access: the page's visibility needs no further query for them.
    qs, columns = policy.annotate_reach(qs.select_related(*CASE_RELATED), user)
    glass = BreakGlassAccess.objects.filter(case=OuterRef("pk"), user_id=user.pk, expires_at__gt=timezone.now())
    try:
        case = qs.annotate(_ppgdid_glass_open=Exists(glass)).get(pk=int(pk))
    except (qs.model.DoesNotExist, ValueError, TypeError):
        log_denial(request, action, "case", pk)
        raise Http404 from None
    case._ppgdid_reach = (user.pk, [g for name, g in columns if getattr(case, name)])
    record_case_read(user, case, section)
    return case


# The relations a case page or list row displays (VisibleCase.section("case"/"household")).
CASE_RELATED = (
    "household",
    "household__commune",
    "organisation",
    "referent",
    "designated_landlord",
    "target_reservataire",
)


LIST_COUNT_CAP = 1000


def capped_count(queryset, cap: int = LIST_COUNT_CAP) -> int:
    """Count up to `cap` rows (lists show "plus de 1 000"): the database stops at the cap instead of
    counting every case of a large scope."""
    return queryset.order_by()[: cap + 1].count()


def search_cases(user, text: str, action: str = Action.VIEW) -> QuerySet:
    """Cases in scope matching a reference, a NUD or a name.

    A protected case is found by name only by members of its own organisation; elsewhere only its
    exact reference or NUD finds it (someone who already holds the file).
    """
    qs = policy.queryset_for(user, action)
    text = (text or "").strip()
    if not text:
        return qs
    exact = Q(household__nud__iexact=text)
    pk = _pk_from_reference(text)
    if pk is not None:
        exact |= Q(pk=pk)
    by_name = Q()
    for word in text.split()[:4]:
        by_name &= (
            Q(household__applicant_last_name__icontains=word)
            | Q(household__applicant_first_name__icontains=word)
            | Exists(
                HouseholdMember.objects.filter(household_id=OuterRef("household_id")).filter(
                    Q(last_name__icontains=word) | Q(first_name__icontains=word)
                )
            )
        )
    own_orgs = {g.organisation_id for g in memberships_of(user) if g.role in (Role.SOCIAL_WORKER, Role.SUPERVISOR)}
    name_allowed = Q(is_protected=False) | Q(organisation_id__in=own_orgs)
    return qs.filter(exact | (by_name & name_allowed))


def _pk_from_reference(text: str) -> int | None:
    # References look like PP-2026-000123 (cases.models.Case.reference).
    parts = text.upper().split("-")
    if len(parts) == 3 and parts[0] == "PP" and parts[2].isdigit():
        return int(parts[2])
    return None


def must_log_read(user, case) -> bool:
    return bool(case.is_protected) or any(g.role == Role.AUDITOR for g in memberships_of(user))


def record_case_read(user, case, section: str, reason: str = "") -> None:
    """Log the read when the rules require it (protected case, or an auditor reading)."""
    if must_log_read(user, case):
        reads.log_read(user, case, section, reason)
