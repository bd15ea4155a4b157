from django.urls import path

from . import handover, views

app_name = "workflows"

urlpatterns = [
    path("taches/", views.InboxView.as_view(), name="inbox"),
    path("taches/export.csv", views.TaskExportView.as_view(), {"key": "mine", "fmt": "csv"}, name="inbox_export_csv"),
    path(
        "taches/export.xlsx", views.TaskExportView.as_view(), {"key": "mine", "fmt": "xlsx"}, name="inbox_export_xlsx"
    ),
    path("taches/equipe/", views.QueueView.as_view(), name="queue"),
    path(
        "taches/equipe/export.csv",
        views.TaskExportView.as_view(),
        {"key": "available", "fmt": "csv"},
        name="queue_export_csv",
    ),
    path(
        "taches/equipe/export.xlsx",
        views.TaskExportView.as_view(),
        {"key": "available", "fmt": "xlsx"},
        name="queue_export_xlsx",
    ),
    path("dossiers/<int:pk>/etapes/<slug:node>/", views.StepView.as_view(), name="step"),
    path("dossiers/<int:pk>/etapes/<slug:node>/prendre/", views.ClaimView.as_view(), name="claim"),
    path("dossiers/<int:pk>/etapes/<slug:node>/liberer/", handover.ReleaseView.as_view(), name="release"),
    path("dossiers/<int:pk>/etapes/<slug:node>/reattribuer/", handover.ReassignView.as_view(), name="reassign"),
]
