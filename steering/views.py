"""Steering pages: the dashboard, the quotas, their exports and the yearly conference report."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import View

from cases.models import Commune
from permissions.policy import log_denial

from . import charts, exports, figures


class SteeringView(LoginRequiredMixin, View):
    page = "dashboard"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not hasattr(self, request.method.lower()):  # as the project's other reports: 405 before the scope
            return self.http_method_not_allowed(request, *args, **kwargs)
        self.scope = figures.scope_for(request.user)
        if self.scope is None:
            log_denial(request, "view", "steering", self.page)
            raise Http404
        self.filters = figures.parse_filters(request.GET)
        return super().dispatch(request, *args, **kwargs)

    def territory(self) -> str:
        """The territory the quotas are computed for: the filter's, else the first of the user's scope."""
        if self.filters.epci:
            return self.filters.epci
        if self.scope.commune_ids:
            found = Commune.objects.filter(insee_code__in=self.scope.commune_ids).exclude(epci_siren="")
            return found.order_by("epci_siren").values_list("epci_siren", flat=True).first() or ""
        return ""

    def base_context(self):
        return {
            "filters": self.filters,
            "choices": figures.filter_choices(self.scope),
            "scope": self.scope,
            "querystring": self.filters.querystring(),
            "nav": "steering",
            "small": figures.SMALL,
        }

    def all_tables(self):
        data = figures.dashboard(self.scope, self.filters)
        quota = figures.quotas(self.scope, self.filters, self.territory())
        return data, quota, data["tables"] + figures.quota_tables(quota)

    def subtitle(self) -> str:
        return _("Période %(start)s à %(end)s") % {"start": self.filters.start, "end": self.filters.end}


class Dashboard(SteeringView):
    def get(self, request):
        data = figures.dashboard(self.scope, self.filters)
        c = data["charts"]
        svg = {
            "stock_etape": charts.bars("g-stock", _("Dossiers ouverts par étape"), c["stock_etape"]),
            "flux": charts.lines("g-flux", _("Flux mensuels"), c["flux"]["months"], c["flux"]["series"]),
            "refus_motif": charts.bars("g-refus", _("Refus par motif"), c["refus_motif"]),
            "relogements": charts.bars("g-reloge", _("Relogements par contingent"), c["relogements"]),
        }
        if "delais" in c:
            svg["delais"] = charts.lines(
                "g-delais", _("Délai médian par mois"), c["delais"]["months"], c["delais"]["series"], " j"
            )
        context = self.base_context() | {
            "tables": {t.key: t for t in data["tables"]},
            "svg": svg,
            "page_title": _("Pilotage du territoire"),
        }
        return render(request, "steering/dashboard.html", context)


class Quotas(SteeringView):
    page = "quotas"

    def get(self, request):
        epci = self.territory()
        quota = figures.quotas(self.scope, self.filters, epci)
        gauges = []
        for c in quota["contingents"]:
            gauges.append((c, charts.gauge(f"g-q{len(gauges)}", c["label"], c["ratio"], quota["targets"][0].pct)))
        mix = [
            (
                quota["targets"][1],
                quota["territory_q1"],
                charts.gauge(
                    "g-q1", str(quota["targets"][1].label), quota["territory_q1"]["ratio"], quota["targets"][1].pct
                ),
            ),
            (
                quota["targets"][2],
                quota["territory_others"],
                charts.gauge(
                    "g-qpv", str(quota["targets"][2].label), quota["territory_others"]["ratio"], quota["targets"][2].pct
                ),
            ),
        ]
        context = self.base_context() | {
            "quota": quota,
            "gauges": gauges,
            "mix": mix,
            "tables": figures.quota_tables(quota),
            "page_title": _("Objectifs d'attribution"),
        }
        return render(request, "steering/quotas.html", context)


class ExportCsv(SteeringView):
    page = "exportcsv"

    def get(self, request):
        _data, _quota, tables = self.all_tables()
        wanted = request.GET.get("tableau", "") or tables[0].key
        table = next((t for t in tables if t.key == wanted), None)
        if table is None:
            return HttpResponseBadRequest(
                _("Tableau inconnu : choisissez un tableau de la page Pilotage."),
                content_type="text/plain; charset=utf-8",
            )
        response = HttpResponse(exports.as_csv(table), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="pilotage-{table.key}-{self.filters.end}.csv"'
        return response


class ExportXlsx(SteeringView):
    page = "exportxlsx"

    def get(self, request):
        _data, _quota, tables = self.all_tables()
        wanted = request.GET.get("tableau", "")
        if wanted:
            tables = [t for t in tables if t.key == wanted]
            if not tables:
                return HttpResponseBadRequest(
                    _("Tableau inconnu : choisissez un tableau de la page Pilotage."),
                    content_type="text/plain; charset=utf-8",
                )
        content = exports.as_xlsx(tables, self.subtitle())
        response = HttpResponse(
            content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        name = wanted or "tableaux"
        response["Content-Disposition"] = f'attachment; filename="pilotage-{name}-{self.filters.end}.xlsx"'
        return response


class YearlyReport(SteeringView):
    page = "report"

    def get(self, request):
        year = self.filters.year
        if "debut" not in request.GET and "fin" not in request.GET:
            self.filters.start, self.filters.end = f"{year}-01", f"{year}-12"
        data, quota, _tables = self.all_tables()
        pdf = exports.yearly_report(
            title=_("Rapport annuel à la conférence intercommunale du logement – %(year)s") % {"year": year},
            subtitle=self.subtitle(),
            tables=data["tables"],
            quota_tables=figures.quota_tables(quota),
            charts=data["charts"],
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="rapport-cil-{year}.pdf"'
        return response
