from django.urls import path

from . import views

app_name = "exchanges"

urlpatterns = [
    path("imports/", views.imports, name="imports"),
    path("imports/<int:pk>/", views.job, name="job"),
    path("imports/<int:pk>/rapport.csv", views.job_report, name="job_report"),
]
