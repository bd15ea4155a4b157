from django.urls import path

from . import handover, views

app_name = "workflows"

urlpatterns = [
    path("taches/", views.InboxView.as_view(), name="inbox"),
    path("dossiers/<int:pk>/etapes/<slug:node>/", views.StepView.as_view(), name="step"),
    path("dossiers/<int:pk>/etapes/<slug:node>/prendre/", views.ClaimView.as_view(), name="claim"),
    path("dossiers/<int:pk>/etapes/<slug:node>/liberer/", handover.ReleaseView.as_view(), name="release"),
    path("dossiers/<int:pk>/etapes/<slug:node>/reattribuer/", handover.ReassignView.as_view(), name="reassign"),
]
