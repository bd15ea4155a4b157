"""What the steering pages show, read from the aggregates (StatCount, or its rollups RollupCount) only: a few
grouped queries per page, summing a bounded number of rows whatever the number of cases.

Access (shared/visibility.md: aggregates for territory admins and commission members, never below 5):
territory admins, commission members and chairs (State services sit there) see their territory's figures;
a landlord agent sees the figures of its own dwellings and of the cases designated to it; a réservataire
agent those of its contingent and of the cases oriented to it. Anyone else gets a 404 (logged).
"""

import math
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import choices
from cases.models import Commune, Organisation
from permissions.policy import memberships_of
from permissions.roles import COMMISSION_ROLES, Role

from .aggregates import STEPS, grain_for
from .models import DeclaredAllocations, RollupCount, StatCount, TerritoryYear

MIN_CELL = 5
STEERING_ROLES = {*COMMISSION_ROLES, Role.TERRITORY_ADMIN, Role.LANDLORD_AGENT, Role.RESERVATAIRE_AGENT}
SMALL = "moins de 5"

STEP_LABELS = {
    "diagnostic": _("Diagnostic social"),
    "committee": _("Commission"),
    "proposal": _("Proposition"),
    "caleol": _("Décision CALEOL"),
    "reply": _("Réponse du ménage"),
    "lease": _("Signature du bail"),
    "end_to_end": _("De bout en bout (signalement → relogement)"),
}
EVENT_LABELS = {
    "flagged": _("Signalés"),
    "labelled": _("Labellisés"),
    "proposed": _("Première proposition"),
    "rehoused": _("Relogés"),
}
OUTCOME_LABELS = {
    "accepted": _("Acceptées"),
    "refused": _("Refusées"),
    "no_reply": _("Sans réponse (vaut refus)"),
    "lapsed": _("Caduques"),
    "not_allocated": _("Non attribuées en CALEOL"),
    "pending": _("En cours"),
}
REFUSALS = ("refused", "no_reply")
ANSWERED = ("accepted", "refused", "no_reply")


def small(n):
    """The small-cell rule: 1 to 4 households are shown as "moins de 5"; zeros stay zeros."""
    if n is None:
        return ""
    return SMALL if 0 < n < MIN_CELL else n


def pct_text(pct) -> str:
    return f"{Decimal(pct).normalize():f}".replace(".", ",")


def rate(part: int, whole: int):
    """A percentage, hidden when its base is a small cell."""
    if not whole:
        return "–"
    if whole < MIN_CELL:
        return SMALL
    return f"{100 * part / whole:.1f} %".replace(".", ",")


# --- scope ---------------------------------------------------------------------------------------------


@dataclass
class Scope:
    q: Q  # on StatCount, for the metrics keyed by commune, landlord or réservataire
    delay_q: Q | None  # on StatCount, for delays (per territory only); None: no delays for this user
    kind: str  # territory, landlord, reservataire (the widest the user holds)
    commune_ids: frozenset = frozenset()
    organisation_ids: frozenset = frozenset()
    fields: frozenset = frozenset()  # the key fields `q` reads (to pick a rollup grain)
    # The same scope as `q` when it is made of whole EPCIs and nothing else: their rows need no commune.
    epci_q: Q | None = None


def scope_for(user) -> Scope | None:
    q = delay_q = epci_q = None
    kind = None
    communes: set = set()
    orgs: set = set()
    fields: set = set()
    for grant in memberships_of(user):
        if grant.role in COMMISSION_ROLES or grant.role == Role.TERRITORY_ADMIN:
            part = Q(commune__in=grant.commune_ids)
            communes |= grant.commune_ids
            kind = "territory"
            fields.add("commune")
        elif grant.role == Role.LANDLORD_AGENT:
            part = Q(landlord_id=grant.organisation_id)
            orgs.add(grant.organisation_id)
            kind = kind or "landlord"
            fields.add("landlord_id")
        elif grant.role == Role.RESERVATAIRE_AGENT:
            part = Q(reservataire_id=grant.organisation_id)
            orgs.add(grant.organisation_id)
            kind = kind or "reservataire"
            fields.add("reservataire_id")
        else:
            continue
        q = part if q is None else q | part
    if q is None:
        return None
    if communes:
        # The communes of the scope's EPCIs, in one query.
        theirs = Commune.objects.filter(insee_code__in=communes).values("epci_siren")
        places = Commune.objects.filter(epci_siren__in=theirs).values_list("insee_code", "epci_siren")
        epcis = {epci for insee, epci in places if insee in communes}
        delay_q = Q(epci_siren__in=epcis)
        # Every key carries its commune's EPCI: when the communes are exactly those of whole EPCIs, the
        # EPCI says the same as the list of communes, and the rollups without commune may be read.
        whole = {insee for insee, epci in places if epci in epcis}
        if fields == {"commune"} and "" not in epcis and whole == communes:
            epci_q = Q(epci_siren__in=epcis)
    return Scope(q, delay_q, kind, frozenset(communes), frozenset(orgs), frozenset(fields), epci_q)


# --- filters -------------------------------------------------------------------------------------------


@dataclass
class Filters:
    start: str  # "YYYY-MM"
    end: str
    epci: str = ""
    commune: str = ""
    reservataire: int = 0
    errors: list = field(default_factory=list)

    @property
    def year(self) -> int:
        return int(self.end[:4])

    def q(self) -> Q:
        q = Q()
        if self.epci:
            q &= Q(epci_siren=self.epci)
        if self.commune:
            q &= Q(commune=self.commune)
        if self.reservataire:
            q &= Q(reservataire_id=self.reservataire)
        return q

    def fields(self) -> set:
        """The key fields `q` reads (the EPCI is in every key)."""
        return {f for f, on in (("commune", self.commune), ("reservataire_id", self.reservataire)) if on}

    def delay_q(self) -> Q:
        return Q(epci_siren=self.epci) if self.epci else Q()

    def months(self) -> Q:
        return Q(month__gte=self.start, month__lte=self.end)

    def month_list(self) -> list[str]:
        year, month = int(self.start[:4]), int(self.start[5:])
        out = []
        while f"{year:04d}-{month:02d}" <= self.end and len(out) < 120:
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def querystring(self) -> str:
        from urllib.parse import urlencode

        params = {"debut": self.start, "fin": self.end}
        if self.epci:
            params["territoire"] = self.epci
        if self.commune:
            params["commune"] = self.commune
        if self.reservataire:
            params["reservataire"] = self.reservataire
        return urlencode(params)


def _month_param(text: str) -> str | None:
    try:
        day = date.fromisoformat(f"{text}-01")
    except (TypeError, ValueError):
        return None
    return f"{day:%Y-%m}" if 2000 <= day.year <= 2100 else None


def parse_filters(params, today: date | None = None) -> Filters:
    """Filters from the URL. A bad value is ignored with a French message, never a server error."""
    today = today or timezone.localdate()
    errors = []
    year_text = params.get("annee", "")
    start = end = None
    if year_text:
        if year_text.isdigit() and 2000 <= int(year_text) <= 2100:
            start, end = f"{year_text}-01", f"{year_text}-12"
        else:
            errors.append(_("L'année doit être écrite sur quatre chiffres (par exemple 2026)."))
    for name, label in (("debut", _("début")), ("fin", _("fin"))):
        text = params.get(name, "")
        if text:
            value = _month_param(text)
            if value is None:
                errors.append(_("La période (%(label)s) doit être un mois au format AAAA-MM.") % {"label": label})
            elif name == "debut":
                start = value
            else:
                end = value
    end = end or f"{today:%Y-%m}"
    start = start or f"{end[:4]}-01"
    if start > end:
        errors.append(_("Le début de la période est après sa fin : la période a été inversée."))
        start, end = end, start
    epci = params.get("territoire", "")
    if epci and not (epci.isdigit() and len(epci) == 9):
        errors.append(_("Le territoire est le numéro SIREN de l'EPCI (9 chiffres)."))
        epci = ""
    commune = params.get("commune", "")
    if commune and not (len(commune) == 5 and commune.isalnum()):
        errors.append(_("La commune est son code INSEE (5 caractères)."))
        commune = ""
    reservataire = params.get("reservataire", "")
    if reservataire and not reservataire.isdigit():
        errors.append(_("Réservataire inconnu."))
        reservataire = ""
    return Filters(start, end, epci, commune, int(reservataire or 0), errors)


def filter_choices(scope: Scope) -> dict:
    """What the filter lists offer: the territories and communes of the scope, the réservataires."""
    communes = Commune.objects.filter(insee_code__in=scope.commune_ids) if scope.commune_ids else Commune.objects.none()
    epcis = sorted({(c.epci_siren, c.epci_name) for c in communes if c.epci_siren}, key=lambda e: e[1])
    reservataires = Organisation.objects.filter(kind=choices.OrganisationKind.RESERVATAIRE)
    state = Organisation.objects.filter(kind__in=[choices.OrganisationKind.STATE, choices.OrganisationKind.EPCI])
    return {
        "epcis": epcis,
        "communes": [(c.insee_code, c.name) for c in communes.order_by("name")],
        "reservataires": [(o.pk, o.name) for o in (reservataires | state).order_by("name")],
    }


# --- reading the counters ---------------------------------------------------------------------------------


def _rows(scope: Scope, filters: Filters, metric: str, fields) -> QuerySet:
    """The counters of `metric` in the scope and filters: from the coarsest rollup that keeps every field
    grouped on or filtered on (steering.aggregates.GRAINS), else from StatCount itself."""
    needed = {f for f in fields if f in ("commune", "landlord_id", "reservataire_id", "dim")} | filters.fields()
    ways = [(scope.epci_q, set())] if scope.epci_q is not None else []
    for q, scope_fields in [*ways, (scope.q, scope.fields)]:
        grain = grain_for(metric, needed | scope_fields)
        if grain:
            return RollupCount.objects.filter(grain=grain, metric=metric).filter(q).filter(filters.q())
    return StatCount.objects.filter(metric=metric).filter(scope.q).filter(filters.q())


def _counts(scope: Scope, filters: Filters, metric: str, *fields, monthly=True, delay=False):
    if delay:  # delays are keyed by territory only: StatCount is their rollup already
        qs = StatCount.objects.filter(metric=metric).filter(scope.delay_q).filter(filters.delay_q())
    else:
        qs = _rows(scope, filters, metric, fields)
    if monthly:
        qs = qs.filter(filters.months())
    return [(*row[:-1], row[-1]) for row in qs.values_list(*fields).annotate(total=Sum("n")).order_by()]


def percentile(histogram: dict[int, int], fraction: float):
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for days in sorted(histogram):
        seen += histogram[days]
        if seen >= rank:
            return days
    return None


@dataclass
class Table:
    key: str
    title: str
    headers: list
    rows: list  # lists of cells, masked already
    note: str = ""


def _names(ids) -> dict:
    return dict(Organisation.objects.filter(pk__in=[i for i in ids if i]).values_list("pk", "name"))


def _commune_names(codes) -> dict:
    return dict(Commune.objects.filter(insee_code__in=[c for c in codes if c]).values_list("insee_code", "name"))


def dashboard(scope: Scope, filters: Filters, today: date | None = None) -> dict:
    today = today or timezone.localdate()
    tables: list[Table] = []
    charts: dict = {}

    # Stock of open cases.
    # Read twice rather than as dim × commune: only the steps are shown per commune.
    by_dim: dict = {}
    for dim, value, n in _counts(scope, filters, "stock", "dim", "value", monthly=False):
        by_dim.setdefault(dim, {})[value] = n
    steps_by_commune = _rows(scope, filters, "stock", ("commune", "dim")).filter(dim="step")
    by_commune = dict(steps_by_commune.values_list("commune").annotate(total=Sum("n")).order_by())
    steps = [(choices.CaseStatus(s).label, by_dim.get("step", {}).get(s, 0)) for s in choices.CaseStatus.values]
    steps = [row for row in steps if row[0] != choices.CaseStatus.CLOSED.label]
    tables.append(Table("stock_etape", _("Dossiers ouverts par étape"), [_("Étape"), _("Dossiers")], _masked(steps)))
    charts["stock_etape"] = steps
    criteria = [(choices.PriorityCriterion(c).label, n) for c, n in sorted(by_dim.get("criterion", {}).items())]
    tables.append(
        Table(
            "stock_critere",
            _("Dossiers ouverts par critère de priorité"),
            [_("Critère"), _("Dossiers")],
            _masked(criteria),
            _("Un dossier peut relever de plusieurs critères."),
        )
    )
    names = _commune_names(by_commune)
    communes = sorted(((names.get(c, c or "–"), n) for c, n in by_commune.items()), key=lambda r: -r[1])
    tables.append(
        Table("stock_commune", _("Dossiers ouverts par commune"), [_("Commune"), _("Dossiers")], _masked(communes))
    )
    dalo = by_dim.get("dalo", {})
    protected = by_dim.get("protected", {})
    tables.append(
        Table(
            "stock_dalo",
            _("Dossiers ouverts : DALO et dossiers protégés"),
            [_("Catégorie"), _("Dossiers")],
            _masked(
                [
                    (_("Reconnus DALO"), dalo.get("1", 0)),
                    (_("Non DALO"), dalo.get("0", 0)),
                    (_("Dossiers protégés"), protected.get("1", 0)),
                ]
            ),
        )
    )

    # Monthly flows.
    months = filters.month_list()
    flows = _counts(scope, filters, "flow", "month", "dim", "value")
    events = {key: dict.fromkeys(months, 0) for key in EVENT_LABELS}
    closed: dict = {}
    for month, dim, value, n in flows:
        if dim == "event" and value in events and month in events[value]:
            events[value][month] += n
        elif dim == "closed":
            closed[value] = closed.get(value, 0) + n
    tables.append(
        Table(
            "flux_mensuels",
            _("Flux mensuels"),
            [_("Mois"), *EVENT_LABELS.values()],
            [[m, *(small(events[k][m]) for k in EVENT_LABELS)] for m in months],
        )
    )
    charts["flux"] = {
        "months": months,
        "series": [(EVENT_LABELS[k], [events[k][m] for m in months]) for k in EVENT_LABELS],
    }
    reasons = [
        (choices.ClosureReason(r).label if r in choices.ClosureReason.values else r, n) for r, n in closed.items()
    ]
    tables.append(
        Table(
            "clotures_motif",
            _("Dossiers clos par motif sur la période"),
            [_("Motif"), _("Dossiers")],
            _masked(sorted(reasons, key=lambda r: -r[1])),
        )
    )

    # Delays.
    if scope.delay_q is not None:
        delays = _counts(scope, filters, "delay", "month", "dim", "value", delay=True)
        hist: dict = {s: {} for s in STEPS}
        monthly: dict = {s: {m: {} for m in months} for s in STEPS}
        for month, step, value, n in delays:
            if step not in hist:
                continue
            days = int(value)
            hist[step][days] = hist[step].get(days, 0) + n
            if month in monthly[step]:
                monthly[step][month][days] = monthly[step][month].get(days, 0) + n
        rows = []
        for step in STEPS:
            count = sum(hist[step].values())
            masked = count < MIN_CELL
            rows.append(
                [
                    STEP_LABELS[step],
                    small(count),
                    SMALL if masked and count else (percentile(hist[step], 0.5) if count else "–"),
                    SMALL if masked and count else (percentile(hist[step], 0.9) if count else "–"),
                ]
            )
        tables.append(
            Table(
                "delais_etapes",
                _("Temps passé par étape (jours)"),
                [_("Étape"), _("Passages terminés"), _("Médiane"), _("9e décile")],
                rows,
                _("Durées regroupées par jour jusqu'à 60 jours, par semaine jusqu'à un an, puis par 30 jours."),
            )
        )
        line = []
        for step in ("end_to_end", "diagnostic", "committee"):
            values = []
            for m in months:
                h = monthly[step][m]
                values.append(percentile(h, 0.5) if sum(h.values()) >= MIN_CELL else None)
            line.append((STEP_LABELS[step], values))
        charts["delais"] = {"months": months, "series": line}
        tables.append(
            Table(
                "delais_mensuels",
                _("Délai médian par mois (jours)"),
                [_("Mois"), *(label for label, _v in line)],
                [[m, *((v[i] if v[i] is not None else "–") for _l, v in line)] for i, m in enumerate(months)],
                _("« – » : moins de 5 passages terminés ce mois-là."),
            )
        )

    # DALO deadline compliance, by département.
    compliance = _counts(scope, filters, "dalo_rehoused", "departement", "value")
    # Only the deadlines already past count: compared in the query, one row per département.
    open_dalo = (
        _rows(scope, filters, "dalo_open", ("departement",))
        .filter(value__lt=today.isoformat())
        .values_list("departement")
        .annotate(total=Sum("n"))
        .order_by()
    )
    depts: dict = {}
    for dept, value, n in compliance:
        depts.setdefault(dept, {"within": 0, "late": 0, "past": 0})[value] += n
    for dept, n in open_dalo:
        depts.setdefault(dept, {"within": 0, "late": 0, "past": 0})["past"] += n
    tables.append(
        Table(
            "dalo_delai",
            _("Respect du délai du préfet (DALO) par département"),
            [
                _("Département"),
                _("Relogés dans le délai"),
                _("Relogés après le délai"),
                _("Part dans le délai"),
                _("Dossiers ouverts au-delà du délai"),
            ],
            [
                [
                    d or "–",
                    small(r["within"]),
                    small(r["late"]),
                    rate(r["within"], r["within"] + r["late"]),
                    small(r["past"]),
                ]
                for d, r in sorted(depts.items())
            ],
        )
    )

    # Offers and refusals.
    # One grouping per table (landlord, commune, typology): never the cross product of the three, whose
    # rows grow with the volume (generate_steering_volume at 1,000,000 cases).
    offers = {group: _counts(scope, filters, "offer", group, "value") for group in ("landlord_id", "commune", "dim")}
    tables.extend(_offer_tables(offers))
    charts["refus_motif"] = [(row[0], row[1]) for row in _refusal_motives(offers["dim"])]

    # Rehousings (signed leases) per réservataire contingent.
    allocations = _counts(scope, filters, "alloc", "reservataire_id", "value")
    per_res: dict = {}
    for res, value, n in allocations:
        row = per_res.setdefault(res, [0, 0, 0])
        row[0] += n
        dalo_flag, qpv = value.split("|")[:2]
        row[1] += n if dalo_flag == "1" else 0
        row[2] += n if qpv == "1" else 0
    res_names = _names(per_res)
    res_rows = sorted(
        ((res_names.get(r, _("Parc non réservé des bailleurs")), *v) for r, v in per_res.items()), key=lambda r: -r[1]
    )
    tables.append(
        Table(
            "relogements_reservataire",
            _("Relogements (baux signés) par contingent réservataire"),
            [_("Contingent"), _("Relogements"), _("dont DALO"), _("dont en QPV")],
            [[r[0], small(r[1]), small(r[2]), small(r[3])] for r in res_rows],
        )
    )
    charts["relogements"] = [(r[0], r[1]) for r in res_rows]
    return {"tables": tables, "charts": charts}


def _masked(rows) -> list:
    return [[label, small(n)] for label, n in rows]


def _refusal_motives(offers) -> list:
    motives: dict = {}
    for _group, value, n in offers:
        _qpv, outcome, motive = value.split("|")
        if outcome in REFUSALS:
            key = motive or ("no_reply" if outcome == "no_reply" else "")
            motives[key] = motives.get(key, 0) + n
    labels = dict(choices.RefusalMotive.choices)
    return sorted(((str(labels.get(m, _("Non précisé"))), n) for m, n in motives.items()), key=lambda r: -r[1])


def _offer_tables(offers: dict) -> list[Table]:
    """`offers`: {"landlord_id" | "commune" | "dim" (the typology): [(group, value, n)]}."""
    landlords = _names({row[0] for row in offers["landlord_id"]})
    communes = _commune_names({row[0] for row in offers["commune"]})

    def grouped(rows, label_of):
        groups: dict = {}
        for key, value, n in rows:
            qpv, outcome, _motive = value.split("|")
            label = label_of(key, qpv)
            row = groups.setdefault(label, dict.fromkeys(OUTCOME_LABELS, 0))
            row[outcome] = row.get(outcome, 0) + n
        out = []
        for label, row in sorted(groups.items(), key=lambda item: str(item[0])):
            total = sum(row.values())
            answered = sum(row[o] for o in ANSWERED)
            refused = sum(row[o] for o in REFUSALS)
            out.append([label, small(total), small(row["accepted"]), small(refused), rate(refused, answered)])
        return out

    headers = [_("Propositions"), _("Acceptées"), _("Refusées ou sans réponse"), _("Taux de refus")]
    tables = [
        Table(
            "offres_bailleur",
            _("Propositions et refus par bailleur"),
            [_("Bailleur"), *headers],
            grouped(offers["landlord_id"], lambda lo, q: landlords.get(lo, "–")),
        ),
        Table(
            "offres_commune",
            _("Propositions et refus par commune"),
            [_("Commune"), *headers],
            grouped(offers["commune"], lambda c, q: communes.get(c, c or "–")),
        ),
        Table(
            "offres_typologie",
            _("Propositions et refus par typologie"),
            [_("Typologie"), *headers],
            grouped(offers["dim"], lambda t, q: t),
        ),
        Table(
            "offres_qpv",
            _("Propositions et refus en et hors QPV"),
            [_("Localisation"), *headers],
            grouped(offers["dim"], lambda t, q: str(_("En QPV") if q == "1" else _("Hors QPV"))),
        ),
        Table(
            "refus_motif",
            _("Refus par motif"),
            [_("Motif"), _("Refus")],
            _masked(_refusal_motives(offers["dim"])),
            _("Le taux de refus rapporte les refus et absences de réponse aux propositions ayant reçu une réponse."),
        ),
    ]
    return tables


# --- quotas --------------------------------------------------------------------------------------------


@dataclass
class Target:
    reference: str
    label: str
    pct: Decimal
    is_default: bool


def targets_for(epci: str, year: int) -> tuple[TerritoryYear | None, list[Target]]:
    row = TerritoryYear.objects.filter(epci_siren=epci, year=year).first()
    base = row or TerritoryYear(epci_siren=epci, year=year)
    return row, [
        Target(
            "L441-1 CCH",
            _("Attributions aux ménages DALO, à défaut prioritaires"),
            base.priority_quota_pct,
            row is None,
        ),
        Target(
            "L441-1 CCH",
            _("Attributions hors QPV au premier quartile ou aux relogés du renouvellement urbain"),
            base.q1_outside_qpv_pct,
            row is None,
        ),
        Target(
            _("CIA (conférence intercommunale)"),
            _("Attributions en QPV aux demandeurs des autres quartiles"),
            base.others_inside_qpv_pct,
            row is None,
        ),
    ]


def needed(pct: Decimal, total: int) -> int:
    """How many allocations the target asks for: the share of the total, rounded up."""
    return math.ceil(Decimal(total) * pct / 100)


def quotas(scope: Scope, filters: Filters, epci: str) -> dict:
    """Year to date of `filters.end`'s year, in one territory, per contingent and per landlord."""
    year = filters.year
    year_filters = Filters(f"{year}-01", filters.end, epci, filters.commune, filters.reservataire)
    row, targets = targets_for(epci, year)
    recorded = _counts(scope, year_filters, "alloc", "reservataire_id", "landlord_id", "value")
    declared = DeclaredAllocations.objects.filter(epci_siren=epci, year=year)
    if scope.kind != "territory":
        own = list(scope.organisation_ids)
        declared = declared.filter(Q(landlord_id__in=own) | Q(reservataire_id__in=own))
    if filters.reservataire:
        declared = declared.filter(reservataire_id=filters.reservataire)
    per_contingent: dict = {}
    per_landlord: dict = {}

    def bucket(store, key):
        return store.setdefault(
            key,
            {
                "total": 0,
                "dalo": 0,
                "priority": 0,
                "out": 0,
                "out_q1": 0,
                "in": 0,
                "in_other": 0,
                "unknown": 0,
                "declared": 0,
            },
        )

    for res, landlord, value, n in recorded:
        dalo_flag, qpv, quartile, renewal = value.split("|")
        contingent = ("r", res) if res else ("l", landlord)
        for b in (bucket(per_contingent, contingent), bucket(per_landlord, landlord)):
            b["total"] += n
            b["priority"] += n
            b["dalo"] += n if dalo_flag == "1" else 0
            if qpv == "1":
                b["in"] += n
                b["in_other"] += n if quartile == "2" and renewal == "0" else 0
            else:
                b["out"] += n
                b["out_q1"] += n if quartile == "1" or renewal == "1" else 0
            b["unknown"] += n if quartile == "0" else 0
    for d in declared:
        contingent = ("r", d.reservataire_id) if d.reservataire_id else ("l", d.landlord_id)
        for b in (bucket(per_contingent, contingent), bucket(per_landlord, d.landlord_id)):
            total = d.outside_qpv + d.inside_qpv
            b["total"] += total
            b["declared"] += total
            b["out"] += d.outside_qpv
            b["out_q1"] += d.outside_qpv_first_quartile
            b["in"] += d.inside_qpv
            b["in_other"] += d.inside_qpv_other_quartiles
    org_names = _names({k[1] for k in per_contingent} | set(per_landlord))
    priority_pct, q1_pct, others_pct = (t.pct for t in targets)

    def line(label, b, achieved, total, pct):
        target = needed(pct, total)
        share = f"{100 * achieved / total:.1f} %".replace(".", ",") if total else "–"
        return {
            "label": label,
            "total": total,
            "achieved": achieved,
            "share": share,
            "target": target,
            "missing": max(0, target - achieved),
            "met": achieved >= target,
            "ratio": (achieved / total) if total else 0,
        }

    contingents = []
    for (kind, pk), b in sorted(per_contingent.items(), key=lambda item: org_names.get(item[0][1], "")):
        label = (
            org_names.get(pk, "?")
            if kind == "r"
            else _("%(name)s (parc non réservé)") % {"name": org_names.get(pk, "?")}
        )
        entry = line(label, b, b["priority"], b["total"], priority_pct)
        entry["dalo"] = b["dalo"]
        entry["declared"] = b["declared"]
        contingents.append(entry)
    landlords = []
    for pk, b in sorted(per_landlord.items(), key=lambda item: org_names.get(item[0], "")):
        landlords.append(
            {
                "label": org_names.get(pk, "?"),
                "q1": line("", b, b["out_q1"], b["out"], q1_pct),
                "others": line("", b, b["in_other"], b["in"], others_pct),
                "unknown": b["unknown"],
            }
        )
    total = {k: sum(b[k] for b in per_landlord.values()) for k in ("out", "out_q1", "in", "in_other", "unknown")}
    return {
        "year": year,
        "epci": epci,
        "settings": row,
        "targets": targets,
        "contingents": contingents,
        "landlords": landlords,
        "territory_q1": line(_("Territoire"), total, total["out_q1"], total["out"], q1_pct),
        "territory_others": line(_("Territoire"), total, total["in_other"], total["in"], others_pct),
        "unknown_quartile": total["unknown"],
    }


def quota_tables(q: dict) -> list[Table]:
    contingents = Table(
        "quota_priorite",
        _("Article L441-1 CCH : attributions aux ménages DALO, à défaut prioritaires, par contingent"),
        [
            _("Contingent"),
            _("Attributions"),
            _("dont ménages DALO"),
            _("Ménages DALO ou prioritaires"),
            _("Part"),
            _("Objectif (nombre)"),
            _("Manque"),
        ],
        [
            [c["label"], c["total"], small(c["dalo"]), small(c["achieved"]), c["share"], c["target"], c["missing"]]
            for c in q["contingents"]
        ],
        _("Objectif de %(pct)s %% des attributions de l'année de chaque réservataire et du parc non réservé.")
        % {"pct": pct_text(q["targets"][0].pct)},
    )
    rows = []

    def mix_row(label, a, b):
        return [
            label,
            *(x for line in (a, b) for x in (line["total"], small(line["achieved"]), line["share"], line["missing"])),
        ]

    for entry in q["landlords"]:
        rows.append(mix_row(entry["label"], entry["q1"], entry["others"]))
    rows.append(mix_row(str(_("Territoire")), q["territory_q1"], q["territory_others"]))
    mix = Table(
        "quota_mixite",
        _("Mixité : premier quartile hors QPV et autres quartiles en QPV, par bailleur"),
        [
            _("Bailleur"),
            _("Attributions hors QPV"),
            _("dont 1er quartile ou ANRU"),
            _("Part"),
            _("Manque"),
            _("Attributions en QPV"),
            _("dont autres quartiles"),
            _("Part"),
            _("Manque"),
        ],
        rows,
        _("Objectifs : %(q1)s %% hors QPV (L441-1 CCH), %(qpv)s %% en QPV (CIA).")
        % {"q1": pct_text(q["targets"][1].pct), "qpv": pct_text(q["targets"][2].pct)},
    )
    return [contingents, mix]
