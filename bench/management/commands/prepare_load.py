"""Work items for the load test (deploy/load/): accounts of the three user kinds, each with its own steps.

    manage.py prepare_load --social 8 --commission 6 --landlords 6 --per-user 40 --out /tmp/load-users.json

Run after `generate_territory` (its accounts and password). Through the services, as the users would:
- social workers: up to `--per-user` open diagnostics of their own cases (referent), claimed (task_claim);
- landlord agents: up to `--per-user` open proposal steps of cases designated to their landlord, claimed for
  each, and the dwellings they may put forward;
- commission members: commission accounts of the benchmark committee's territory seated on it
  (committee_member_add), with the agenda items of its planned session they may read and vote on.
Writes the JSON file the locustfile reads: one entry per account, disjoint work items.

Refuses unless the database name contains "load", "bench" or "test" (it moves generated cases on).
"""

import json

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, Q
from viewflow.workflow.models import Task

from audit.commands import AuditedCommand
from cases.models import Dwelling
from committees import services as committee_services
from committees.models import Committee, CommitteeMember, Session
from permissions.models import Membership
from permissions.roles import Role
from workflows import services as workflow_services
from workflows.flows import CaseFlow


class Command(AuditedCommand):
    help = "Prépare les comptes et les dossiers du test de charge (deploy/load/)."
    audit_reason = "Préparation du test de charge (prepare_load)"

    def add_arguments(self, parser):
        parser.add_argument("--social", type=int, default=8)
        parser.add_argument("--commission", type=int, default=6)
        parser.add_argument("--landlords", type=int, default=6)
        parser.add_argument("--per-user", type=int, default=12, help="étapes réservées à chaque compte")
        parser.add_argument("--out", required=True)

    def handle(self, *args, social, commission, landlords, per_user, out, **options):
        name = str(connection.settings_dict["NAME"])
        if not any(word in name for word in ("load", "bench", "test")):
            raise CommandError(f"Base {name!r} : ce n'est pas une base de mesure.")
        if not get_user_model().objects.filter(username="bench.ts").exists():
            raise CommandError("Lancez d'abord generate_territory.")
        result = {
            "social": self.claimed(Role.SOCIAL_WORKER, "diagnostic", "referent", social, per_user),
            "landlord": self.claimed(Role.LANDLORD_AGENT, "proposal", "designated_landlord", landlords, per_user),
            "commission": self.seats(commission),
        }
        for entry in result["landlord"]:
            org = Membership.objects.get(user__username=entry["username"], role=Role.LANDLORD_AGENT).organisation_id
            entry["dwellings"] = list(
                Dwelling.objects.filter(landlord_id=org).order_by("pk").values_list("pk", flat=True)
            )
            if not entry["dwellings"]:
                raise CommandError(f"{entry['username']} : aucun logement de son organisation.")
        with open(out, "w") as handle:
            json.dump(result, handle, indent=1)
        for kind, entries in result.items():
            items = sum(len(e.get("cases") or e.get("items")) for e in entries)
            self.stdout.write(f"{kind}: {len(entries)} comptes, {items} éléments de travail")
        self.stdout.write(f"écrit : {out}")

    def claimed(self, role, node, case_field, n_users, per_user) -> list[dict]:
        """`n_users` accounts of `role` with up to `per_user` open `node` steps each, claimed for them:
        a social worker's own cases (case_field "referent"), a landlord agent's landlord's designated
        cases (case_field "designated_landlord"). Accounts with the most open steps first."""
        flow_task = getattr(CaseFlow, node)
        field = f"process__caseprocess__case__{case_field}"
        open_tasks = Task.objects.filter(
            flow_task=flow_task, flow_task_type="HUMAN", process__caseprocess__case__closed_at__isnull=True
        )
        by_scope = (
            open_tasks.filter(status="NEW").values(field).annotate(n=Count("pk")).order_by("-n").values_list(field, "n")
        )
        User = get_user_model()
        entries = []
        for scope_id, _n in by_scope:
            if len(entries) >= n_users:
                break
            if case_field == "referent":
                accounts = User.objects.filter(pk=scope_id)
            else:
                accounts = User.objects.filter(
                    memberships__organisation_id=scope_id, memberships__role=role, memberships__is_active=True
                ).order_by("username")
            for user in accounts.exclude(username__startswith="bench."):
                if len(entries) >= n_users:
                    break
                mine = open_tasks.filter(Q(status="NEW") | Q(status="ASSIGNED", owner=user), **{field: scope_id})
                cases, refused = [], 0
                for task in mine.select_related("process__caseprocess__case").order_by("pk")[: per_user * 2]:
                    case = task.process.caseprocess.case
                    try:
                        if task.owner_id != user.pk:
                            workflow_services.task_claim(actor=user, case=case, node_name=node)
                    except (PermissionDenied, workflow_services.StepConflict):
                        refused += 1
                        continue
                    cases.append(case.pk)
                    if len(cases) >= per_user:
                        break
                if len(cases) >= per_user // 2:
                    entries.append({"username": user.username, "node": node, "cases": cases, "refused": refused})
        if len(entries) < n_users:
            raise CommandError(f"{role}: {len(entries)} comptes seulement avec des étapes « {node} ».")
        return entries

    def seats(self, n_users) -> list[dict]:
        """Commission accounts of the committee's territory seated on it, with its planned session's items."""
        committee = Committee.objects.order_by("pk").first()
        session = committee.sessions.filter(status=Session.Status.PLANNED).order_by("pk").first()
        if session is None:
            raise CommandError("Aucune séance prévue (generate_territory en crée une).")
        admin = get_user_model().objects.get(username="bench.admin")
        communes = committee.communes.values("pk")
        memberships = (
            Membership.objects.filter(role=Role.COMMISSION_MEMBER, is_active=True, organisation__communes__in=communes)
            .exclude(user__username__startswith="bench.")
            .select_related("user", "organisation")
            .distinct()
            .order_by("user__username")
        )
        entries, seen = [], set()
        for membership in memberships:
            if len(entries) >= n_users:
                break
            if membership.user_id in seen:
                continue
            seen.add(membership.user_id)
            if not CommitteeMember.objects.filter(committee=committee, user=membership.user, is_active=True).exists():
                committee_services.committee_member_add(
                    actor=admin, committee=committee, user=membership.user, organisation=membership.organisation
                )
            entries.append({"username": membership.user.username, "session": session.pk, "items": []})
        if len(entries) < n_users:
            raise CommandError(f"commission : {len(entries)} comptes seulement.")
        items = list(session.items.order_by("position", "pk").values_list("pk", flat=True))
        for k, entry in enumerate(entries):
            # Every member reads and votes on the whole agenda, starting at a different item.
            shift = k * len(items) // len(entries)
            entry["items"] = items[shift:] + items[:shift]
        return entries
