"""The home page (/): each role's counts, each a link to the list it counts, and the role's own pages.

A count is the number of rows its linked list shows, computed from the same pieces (issue 18, part 2):
the case list's filter set and due-date scan (web.worklists: CaseFilter, open_steps_due, due_matches,
the list's count cap), the task lists of "Mes tâches" (permissions.queues, first page), the notification
centre's unread rows (notifications.selectors.own_notifications). A count the list would not show would be a
leak, so nothing is counted outside those scopes.

Cost: the simple counts go to the database as one SELECT of scalar subqueries; the due dates take the
open steps of the scope once (both "en retard" and "semaine" come from that scan); the team queue is
one page of permissions.queues. About ten queries per page whatever the role (tests/web/test_home.py).
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Q
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from committees.models import CommitteeMember, Session
from committees.selectors import seats_of
from notifications.selectors import own_notifications
from permissions.policy import CASE_READERS, LIST_COUNT_CAP, roles_of, search_cases
from permissions.queues import PAGE_SIZE, task_inbox_for, task_queue_for
from permissions.roles import COMMISSION_ROLES, Role
from permissions.services import can_manage_memberships
from web.worklists import CaseFilter, due_matches
from workflows.queries import DUE_SCAN_CAP, open_steps_due


@dataclass
class Tile:
    """One count and the list it links to. `cap`: the list stops counting there ("plus de …")."""

    label: str
    count: int
    url: str
    cap: int = 0
    hint: str = ""
    urgent: bool = False

    @property
    def capped(self) -> bool:
        return bool(self.cap) and self.count > self.cap

    @property
    def shown(self) -> int:
        return min(self.count, self.cap) if self.cap else self.count


@dataclass
class Link:
    label: str
    url: str
    hint: str = ""


# --- counting -------------------------------------------------------------------------------------


def count_together(querysets: dict) -> dict:
    """{key: row count} of several querysets in one SELECT of scalar subqueries. A sliced queryset is
    counted up to its slice (the lists' count caps)."""
    if not querysets:
        return {}
    parts, params = [], []
    for i, queryset in enumerate(querysets.values()):
        try:
            sql, query_params = queryset.values("pk").query.sql_with_params()
        except EmptyResultSet:  # an empty scope (Case.objects.none()): nothing to ask
            parts.append("0")
            continue
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS home_count_{i})")
        params.extend(query_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return dict(zip(querysets, cursor.fetchone(), strict=True))


def case_list_url(params: dict) -> str:
    return f"{reverse('cases:list')}?{urlencode(params)}" if params else reverse("cases:list")


def filtered_cases(user, params: dict):
    """The case list's rows for these URL params, as the list computes them (its filter set on the
    user's search scope), or None when the list would not apply one of them to this user (a filter on
    data the visibility matrix hides is not offered: the list would ignore it and show more)."""
    filterset = CaseFilter(params or None, search_cases(user, ""), user=user)
    if any(name not in filterset.filters for name in params) or (params and not filterset.is_valid()):
        return None
    return filterset.qs


def due_counts(user, base: dict) -> dict:
    """{"en-retard": n, "semaine": n}: the cases the case list shows for `base` + ?echeance=<code>. The
    same scan as the list (web.worklists.case_worklist): the open steps of the filtered scope, oldest
    first, at most DUE_SCAN_CAP, matched by due_matches; a case counts once."""
    cases = filtered_cases(user, base)
    if cases is None:
        return {}
    today = timezone.localdate()
    matched = {"en-retard": set(), "semaine": set()}
    for case_pk, _task, info in open_steps_due(cases):
        for code, found in matched.items():
            if due_matches(info, code, today):
                found.add(case_pk)
    return {code: len(found) for code, found in matched.items()}


# --- what each role is shown ------------------------------------------------------------------------


def personal_filter(roles) -> dict:
    """A social worker's own cases are those they are referent of; the others' are their whole scope."""
    if Role.SOCIAL_WORKER in roles and Role.SUPERVISOR not in roles:
        return {"referent": "moi"}
    return {}


def next_session(user):
    """The next session not closed of a committee the user sits on (the open one first), with its
    agenda's size and how many items are decided: what its page's agenda lists (committees.selectors)."""
    seats = seats_of(user)
    return (
        Session.objects.filter(committee_id__in=seats.values("committee_id"))
        .exclude(status=Session.Status.CLOSED)
        .annotate(
            n_items=Count("items", distinct=True),
            n_decided=Count("items", filter=Q(items__decision__isnull=False), distinct=True),
            bureau=Count(
                "committee__members",
                filter=Q(
                    committee__members__user=user,
                    committee__members__is_active=True,
                    committee__members__function__in=[
                        CommitteeMember.Function.CHAIR,
                        CommitteeMember.Function.SECRETARY,
                    ],
                ),
                distinct=True,
            ),
        )
        .select_related("committee")
        .order_by(
            # An open session first, then the planned ones by date.
            "status",
            "starts_at",
            "pk",
        )
        .first()
    )


def role_links(user, roles) -> list[Link]:
    """The role's own pages (the menu's, and those the menu does not list)."""
    links = []
    if roles & {Role.SOCIAL_WORKER, Role.SUPERVISOR}:
        links.append(Link(_("Signaler un ménage"), reverse("cases:create")))
        links.append(Link(_("Pré-signalements de l'accueil"), reverse("reception:preflags")))
    if Role.RECEPTION in roles:
        links.append(Link(_("Orienter une personne"), reverse("reception:orientation")))
        links.append(Link(_("Enregistrer un contact"), reverse("reception:contact_create")))
        links.append(Link(_("Pré-signalements"), reverse("reception:preflags")))
    if roles & set(COMMISSION_ROLES):
        links.append(Link(_("Mes commissions"), reverse("committees:list")))
    if Role.LANDLORD_AGENT in roles:
        links.append(Link(_("Logements et offres"), reverse("dwellings:list")))
    if Role.TERRITORY_ADMIN in roles:
        links.append(Link(_("Imports de demandes"), reverse("exchanges:imports")))
        links.append(Link(_("Modèles de courriers"), reverse("documents:templates")))
        links.append(Link(_("Statistiques de l'accueil"), reverse("reception:stats")))
    if can_manage_memberships(user):
        links.append(Link(_("Habilitations"), reverse("permissions:membership_list")))
    if Role.NETWORK_HEAD in roles:
        links.append(Link(_("Lieux d'accueil"), reverse("reception:desk_manage")))
        links.append(Link(_("Référentiel d'information"), reverse("reception:script")))
        links.append(Link(_("Statistiques de l'accueil"), reverse("reception:stats")))
    if Role.DPO in roles:
        links.append(Link(_("Journal des consultations (DPO)"), reverse("privacy:dpo")))
    if Role.AUDITOR in roles:
        links.append(Link(_("Dossiers (lecture seule, consultations journalisées)"), reverse("cases:list")))
    if user.is_superuser or Role.SYSTEM_ADMIN in roles:
        links.append(Link(_("Administration"), reverse("admin:index")))
    if roles:
        links.append(Link(_("Mes absences et délégations"), reverse("permissions:delegations")))
    return list({link.url: link for link in links}.values())


def dashboard(user) -> dict:
    roles = roles_of(user)
    follows_cases = bool(roles & (CASE_READERS - {Role.AUDITOR}))
    tiles: list[Tile] = []
    counted: dict = {}  # key → (queryset, cap), counted in one query
    labels: dict = {}  # key → (label, url, hint)

    def by_count(key, params, label, hint=""):
        cases = filtered_cases(user, params)
        if cases is not None:
            counted[key] = cases.order_by()[: LIST_COUNT_CAP + 1]
            labels[key] = (label, case_list_url(params), hint, LIST_COUNT_CAP)

    mine = personal_filter(roles)
    if follows_cases:
        due = due_counts(user, mine)
        if due:
            tiles.append(
                Tile(
                    _("Dossiers dont l'étape est en retard"),
                    due["en-retard"],
                    case_list_url({**mine, "echeance": "en-retard"}),
                    cap=DUE_SCAN_CAP,
                    urgent=due["en-retard"] > 0,
                )
            )
            tiles.append(
                Tile(
                    _("Dossiers dont l'étape arrive à échéance sous 7 jours"),
                    due["semaine"],
                    case_list_url({**mine, "echeance": "semaine"}),
                    cap=DUE_SCAN_CAP,
                )
            )
        by_count(
            "dalo30",
            {**mine, "dalo30": "oui"},
            _("Échéances DALO dans les 30 jours ou dépassées"),
            _("Délai de relogement du ménage reconnu prioritaire DALO"),
        )
        counted["inbox"] = task_inbox_for(user, 1)
        labels["inbox"] = (
            _("Étapes prises en charge par moi"),
            reverse("workflows:inbox") + "#en-cours",
            "",
            PAGE_SIZE,
        )
    if roles & set(COMMISSION_ROLES):
        by_count("committee", {"etape": "committee"}, _("Dossiers en attente de commission"))
    if Role.LANDLORD_AGENT in roles:
        by_count("reply", {"etape": "reply"}, _("Offres en attente de la réponse du ménage"))
        by_count("caleol", {"etape": "caleol"}, _("Décisions CALEOL à enregistrer"))
    counted["unread"] = own_notifications(user).filter(read_at__isnull=True)
    labels["unread"] = (
        _("Notifications non lues"),
        reverse("notifications:centre") + "?filtre=non-lues",
        "",
        0,
    )
    counts = count_together(counted)
    for key, (label, url, hint, cap) in labels.items():
        tiles.append(Tile(label, counts[key], url, cap=cap, hint=hint, urgent=key == "dalo30" and counts[key] > 0))
    if follows_cases:
        queue = task_queue_for(user, 1)  # the first page of "Étapes disponibles pour mon équipe"
        tiles.insert(
            len(tiles) - 1,
            Tile(
                _("Étapes disponibles pour mon équipe"),
                len(queue),
                reverse("workflows:inbox") + "#disponibles",
                cap=PAGE_SIZE,
            ),
        )
    return {
        "tiles": tiles,
        "unread_notifications": counts["unread"],  # the header's badge: counted once, with the tiles
        "session": next_session(user) if roles & set(COMMISSION_ROLES) else None,
        "links": role_links(user, roles),
        "personal": bool(mine),
    }


class HomeView(LoginRequiredMixin, View):
    """GET /: the signed-in user's home page."""

    def get(self, request):
        context = dashboard(request.user)
        return render(request, "home/home.html", {**context, "nav": "home", "page_title": _("Accueil")})
