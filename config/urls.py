from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", RedirectView.as_view(pattern_name="workflows:inbox", permanent=False), name="home"),
    path("api/", include("api.urls")),
    path("logements/", include("cases.urls_dwellings")),
    path("", include("workflows.urls")),
    path("habilitations/", include("permissions.urls")),
    path("dossiers/", include("cases.urls")),
    path("", include("audit.urls")),
    path("commissions/", include("committees.urls")),
    path("notifications/", include("notifications.urls")),
]
