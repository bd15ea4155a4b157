from django.urls import path

from cases.routing import reads_from_replica

from . import notes, views

app_name = "cases"

urlpatterns = [
    path("", reads_from_replica(views.CaseListView.as_view()), name="list"),
    path("export.csv", reads_from_replica(views.CaseExportView.as_view()), {"fmt": "csv"}, name="export_csv"),
    path("export.xlsx", reads_from_replica(views.CaseExportView.as_view()), {"fmt": "xlsx"}, name="export_xlsx"),
    path("nouveau/", views.CaseCreateView.as_view(), name="create"),
    path("<int:pk>/", views.CaseDetailView.as_view(), name="detail"),
    path("<int:pk>/clore/", views.CaseCloseView.as_view(), name="close"),
    path("<int:pk>/menage/", views.HouseholdEditView.as_view(), name="household_edit"),
    path("<int:pk>/notes/", notes.CaseNotesView.as_view(), name="notes"),
]
