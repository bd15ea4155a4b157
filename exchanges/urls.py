from django.urls import path

from . import pool_views, views

app_name = "exchanges"

urlpatterns = [
    path("imports/", views.imports, name="imports"),
    path("imports/<int:pk>/", views.job, name="job"),
    path("imports/<int:pk>/rapport.csv", views.job_report, name="job_report"),
    path("etat/", pool_views.state_pool_page, name="state_pool"),
    path("etat/export.csv", pool_views.state_pool_export, name="state_pool_export"),
    path("siao/", pool_views.siao_page, name="siao"),
]
