from django.urls import path

from . import views

app_name = "steering"

urlpatterns = [
    path("", views.Dashboard.as_view(), name="dashboard"),
    path("quotas/", views.Quotas.as_view(), name="quotas"),
    path("export.csv", views.ExportCsv.as_view(), name="export_csv"),
    path("export.xlsx", views.ExportXlsx.as_view(), name="export_xlsx"),
    path("rapport.pdf", views.YearlyReport.as_view(), name="report"),
]
