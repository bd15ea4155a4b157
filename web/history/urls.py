from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("dossiers/<int:pk>/historique/", views.timeline, name="timeline"),
    path("dossiers/<int:pk>/historique/export.csv", views.export_csv, name="export_csv"),
    path("dossiers/<int:pk>/historique/export.pdf", views.export_pdf, name="export_pdf"),
]
