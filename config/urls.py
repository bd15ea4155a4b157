from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.views import LoginView
from web.home import HomeView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("", include("ops.urls")),
    path("compte/second-facteur/", include("accounts.urls")),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # "Mot de passe oublié ?": Django's reset flow; the e-mail goes through EMAIL_BACKEND (console in the demo).
    path(
        "accounts/mot-de-passe/",
        auth_views.PasswordResetView.as_view(email_template_name="registration/password_reset_email.txt"),
        name="password_reset",
    ),
    path("accounts/mot-de-passe/envoye/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/mot-de-passe/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/mot-de-passe/termine/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("", HomeView.as_view(), name="home"),  # each role's counts and pages (web/home.py)
    path("api/", include("api.urls")),
    path("api/v1/imports/", include("exchanges.api")),  # the application import for partners (issue 21)
    path("echanges/", include("exchanges.urls")),  # imports and exchanges (issue 21)
    path("logements/", include("web.dwellings.urls")),
    path("", include("web.tasks.urls")),
    path("habilitations/", include("permissions.urls")),
    path("dossiers/", include("web.cases.urls")),
    path("", include("web.history.urls")),
    path("commissions/", include("committees.urls")),
    path("notifications/", include("notifications.urls")),
    path("statistiques/", include("steering.urls")),
    path("", include("reception.urls")),  # /accueil/ and /mon-dossier/
    path("", include("privacy.urls")),
    path("", include("documents.urls")),  # /dossiers/<id>/documents/, /documents/
]
