from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("logements/", include("cases.urls_dwellings")),
    path("", include("workflows.urls")),
]
