"""Exchanges with the State's priority-pool tool (SYPLO): the export of a territory's labelled DALO
and priority households, and the import of the tool's results (designations on a réservataire's
contingent, dwelling allocations) back onto the cases. Layouts: exchanges.layouts (POOL_EXPORT,
POOL_RESULTS, version 1); the official format of the tool is not public, so this adapter is the
only place that knows the file and can be swapped.

Export: the cases come from the case policy (what the user may view), restricted to the open cases
of the user's territory that a committee labelled or that are DALO; each cell from the visibility
module (a value the user may not read, or masked by a protected case, leaves its cell empty).
Every exported case is logged as a read (audit.reads, section "state_export").

Import of results: a `PoolResult` per line (a dated event of the case, with history and the
import's reason), keyed by case, type and date: the same file twice changes nothing; a line that
contradicts a recorded result is listed as a conflict and not written.
"""

import csv
import io
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from audit.chain import chained_at_end
from audit.models import Section
from audit.reads import log_read
from cases.choices import CommitteeOutcome, OrganisationKind
from cases.models import Case, CommitteeReview, Dwelling, Organisation
from cases.validators import validate_nud
from permissions.policy import Action, log_denial, memberships_of, policy
from permissions.roles import COMMISSION_ROLES, Role
from permissions.visibility import can_see_field, case_accesses

from .layouts import POOL_EXPORT, POOL_RESULTS
from .lines import LineImport, Rejected, checked, parse_date, text
from .models import PoolResult, PoolResultKind

# Members of a State service (préfecture, DDETS) who export: those whose membership reaches the
# cases (the commission, the préfecture's contingent); the policy then says which cases.
STATE_ROLES = {*COMMISSION_ROLES, Role.RESERVATAIRE_AGENT}
SIREN = re.compile(r"^\d{9}$")
KINDS = {
    "designation": PoolResultKind.DESIGNATION,
    "désignation": PoolResultKind.DESIGNATION,
    "attribution": PoolResultKind.ALLOCATION,
}


# --- who ------------------------------------------------------------------------------------------


def exporter_grants(user) -> list:
    """Territory administrators, and members of a State organisation in a case-reading role."""
    grants = memberships_of(user)
    state = set(
        Organisation.objects.filter(
            pk__in={g.organisation_id for g in grants if g.role in STATE_ROLES}, kind=OrganisationKind.STATE
        ).values_list("pk", flat=True)
    )
    return [
        g for g in grants if g.role == Role.TERRITORY_ADMIN or (g.role in STATE_ROLES and g.organisation_id in state)
    ]


def require_exporter(request_or_user) -> set[str]:
    """The communes of the user's territory (those of the exporting memberships); 403 otherwise."""
    user = getattr(request_or_user, "user", request_or_user)
    grants = exporter_grants(user)
    if not grants:
        log_denial(request_or_user, "export", "page", "state_pool")
        raise PermissionDenied
    return {code for g in grants for code in g.commune_ids}


# --- export ---------------------------------------------------------------------------------------


def _labelled_reviews():
    return CommitteeReview.objects.filter(
        case=OuterRef("pk"), kind=CommitteeReview.Kind.PRIORITY, outcome=CommitteeOutcome.LABELLED
    )


def export_cases(user, communes: set[str]):
    """Open cases of the territory, labelled by a committee or DALO, that the policy lets `user` view."""
    labelled_on = Subquery(_labelled_reviews().order_by("-decided_at").values("decided_at")[:1])
    return (
        policy.queryset_for(user, Action.VIEW)
        .filter(closed_at__isnull=True, household__commune_id__in=communes)
        .filter(Q(is_dalo=True) | Q(Exists(_labelled_reviews())))
        .annotate(labelled_on=labelled_on)
        .select_related("household", "target_reservataire", "diagnostic")
        .prefetch_related("criteria")
        .order_by("pk")
    )


def _date(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "astimezone"):
        value = timezone.localtime(value).date()
    return value.strftime("%d/%m/%Y")


def _yes(value) -> str:
    return "oui" if value else "non"


# Column → (model label, field) the visibility module rules on, and how the value is written.
CELLS = {
    "nud": ("cases.household", "nud", lambda c: c.household.nud),
    "nom": ("cases.household", "applicant_last_name", lambda c: c.household.applicant_last_name),
    "prenom": ("cases.household", "applicant_first_name", lambda c: c.household.applicant_first_name),
    "date_naissance": ("cases.household", "applicant_birth_date", lambda c: _date(c.household.applicant_birth_date)),
    "commune_insee": ("cases.household", "commune", lambda c: c.household.commune_id or ""),
    "situation_logement": ("cases.household", "housing_situation", lambda c: c.household.housing_situation),
    "dalo": ("cases.case", "is_dalo", lambda c: _yes(c.is_dalo)),
    "date_decision_comed": ("cases.case", "comed_decision_date", lambda c: _date(c.comed_decision_date)),
    "date_limite_offre_dalo": ("cases.case", "dalo_offer_deadline", lambda c: _date(c.dalo_offer_deadline)),
    "labellise_le": ("cases.committeereview", "decided_at", lambda c: _date(c.labelled_on)),
    "criteres": ("cases.casecriterion", "code", lambda c: "|".join(sorted(x.code for x in c.criteria.all()))),
    "typologie_recommandee": (
        "cases.diagnostic",
        "recommended_typology",
        lambda c: getattr(getattr(c, "diagnostic", None), "recommended_typology", "") or "",
    ),
    "reservataire_cible": ("cases.case", "target_reservataire", lambda c: str(c.target_reservataire or "")),
    "dossier_protege": ("cases.case", "is_protected", lambda c: _yes(c.is_protected)),
}
assert set(CELLS) | {"version_format", "reference_dossier"} == set(POOL_EXPORT.headers)


def export_rows(user, cases) -> list[list[str]]:
    accesses = case_accesses(user, cases)
    rows = []
    for case in cases:
        access = accesses[case.pk]
        row = []
        for header in POOL_EXPORT.headers:
            if header == "version_format":
                row.append(POOL_EXPORT.version)
            elif header == "reference_dossier":
                row.append(case.reference)
            else:
                label, name, value = CELLS[header]
                row.append(value(case) if can_see_field(access, label, name) else "")
        rows.append(row)
    return rows


def write_export(user, communes: set[str], stream) -> int:
    """Write the export (layout POOL_EXPORT) to a text stream and log every exported case as a read
    of the user, in one transaction. Returns the number of households."""
    cases = list(export_cases(user, communes))
    writer = csv.writer(stream, delimiter=POOL_EXPORT.delimiter, lineterminator="\r\n")
    stream.write("\ufeff")
    writer.writerow(POOL_EXPORT.headers)
    writer.writerows(export_rows(user, cases))
    with transaction.atomic(), chained_at_end():
        for case in cases:
            log_read(user, case, Section.STATE_EXPORT)
    return len(cases)


def export_file_name() -> str:
    return f"{POOL_EXPORT.name}-v{POOL_EXPORT.version}-{timezone.localdate():%Y%m%d}.csv"


def export_text(user, communes: set[str]) -> tuple[str, int]:
    out = io.StringIO()
    count = write_export(user, communes, out)
    return out.getvalue(), count


# --- import of the results ------------------------------------------------------------------------


class ResultsImport(LineImport):
    layout = POOL_RESULTS

    def prepare(self) -> None:
        self.today = timezone.localdate()
        self.reservataires = {}
        for org in Organisation.objects.exclude(siren="").order_by("pk"):
            self.reservataires.setdefault(org.siren, org)
        self.cases: dict[str, Case | None] = {}

    def _case(self, nud: str) -> Case:
        if nud not in self.cases:
            qs = Case.objects.filter(household__nud=nud, closed_at__isnull=True)
            if self.allowed is not None:
                qs = qs.filter(household__commune_id__in=self.allowed)
            self.cases[nud] = qs.first()
        if self.cases[nud] is None:
            raise Rejected("aucun dossier ouvert pour ce NUD sur votre territoire")
        return self.cases[nud]

    def _nud(self, value: str) -> Case:
        value = text(value, 18, required=True).upper()
        try:
            validate_nud(value)
        except ValidationError as error:
            raise Rejected(error.messages[0]) from None
        return self._case(value)

    def _kind(self, value: str) -> str:
        kind = KINDS.get(value.strip().casefold())
        if kind is None:
            raise Rejected("type inconnu : « designation » ou « attribution » attendu")
        return kind

    def _reservataire(self, value: str) -> Organisation:
        value = re.sub(r"\s", "", value or "")
        if not value:
            raise Rejected("valeur obligatoire manquante")
        if not SIREN.match(value):
            raise Rejected("SIREN invalide : 9 chiffres attendus")
        org = self.reservataires.get(value)
        if org is None:
            raise Rejected("réservataire inconnu : aucune organisation n'a ce SIREN")
        return org

    def _date(self, value: str):
        if not value.strip():
            raise Rejected("valeur obligatoire manquante")
        return parse_date(value, self.today)

    def read(self, row: dict):
        errors = []
        values = {
            "case": checked(errors, "nud", self._nud, row.get("nud") or ""),
            "kind": checked(errors, "type", self._kind, row.get("type") or ""),
            "on": checked(errors, "date", self._date, row.get("date") or ""),
            "reservataire": checked(errors, "siren_reservataire", self._reservataire, row.get("siren_reservataire")),
            "rpls": checked(errors, "rpls_logement", text, row.get("rpls_logement") or "", 20),
        }
        if values["kind"] == PoolResultKind.ALLOCATION and values["rpls"] == "":
            errors.append(("rpls_logement", "identifiant RPLS obligatoire pour une attribution"))
        return (None if errors else values), errors

    def key(self, values: dict):
        return values["case"].pk, values["kind"], values["on"]

    def apply(self, line: int, values: dict):
        case, kind, on = values["case"], values["kind"], values["on"]
        found = PoolResult.objects.filter(case=case, kind=kind, on=on).select_related("reservataire").first()
        if found is not None:
            if found.reservataire_id == values["reservataire"].pk and found.dwelling_rpls == values["rpls"]:
                return "unchanged"
            return (
                "siren_reservataire",
                f"un résultat de ce type à cette date est déjà enregistré pour ce dossier ({found.reservataire}"
                f"{', logement ' + found.dwelling_rpls if found.dwelling_rpls else ''}) : la ligne n'a pas été reprise",
            )
        dwellings = list(Dwelling.objects.filter(rpls_id=values["rpls"])[:2]) if values["rpls"] else []
        result = PoolResult(
            case=case,
            kind=kind,
            on=on,
            reservataire=values["reservataire"],
            dwelling_rpls=values["rpls"],
            dwelling=dwellings[0] if len(dwellings) == 1 else None,
            job=self.job,
        )
        result.full_clean(exclude=["job"])
        result.save()
        return "created"
