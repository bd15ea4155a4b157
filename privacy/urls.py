from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("dpo/", views.dpo_view, name="dpo"),
    path("dossiers/<int:pk>/droit-d-acces/", views.subject_access, name="subject_access"),
    path(
        "dossiers/<int:pk>/droit-d-acces/export.pdf", views.subject_access_download, {"fmt": "pdf"}, name="export_pdf"
    ),
    path(
        "dossiers/<int:pk>/droit-d-acces/export.json",
        views.subject_access_download,
        {"fmt": "json"},
        name="export_json",
    ),
]
