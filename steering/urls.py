from django.urls import path

from cases.routing import reads_from_replica

from . import views

app_name = "steering"

# Statistics may be a moment behind: their reads may go to the replica (cases/routing.py).
urlpatterns = [
    path("", reads_from_replica(views.Dashboard.as_view()), name="dashboard"),
    path("quotas/", reads_from_replica(views.Quotas.as_view()), name="quotas"),
    path("export.csv", reads_from_replica(views.ExportCsv.as_view()), name="export_csv"),
    path("export.xlsx", reads_from_replica(views.ExportXlsx.as_view()), name="export_xlsx"),
    path("rapport.pdf", reads_from_replica(views.YearlyReport.as_view()), name="report"),
]
