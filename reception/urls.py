"""/accueil/ (the reception network) and /mon-dossier/ (the household's own view)."""

from django.urls import include, path

from . import household_views, views

reception = [
    path("", views.index, name="index"),
    path("lieux/", views.desks, name="desks"),
    path("lieux/gerer/", views.desk_manage, name="desk_manage"),
    path("lieux/nouveau/", views.desk_edit, name="desk_create"),
    path("lieux/<int:pk>/modifier/", views.desk_edit, name="desk_edit"),
    path("communes/", views.communes, name="communes"),
    path("communes/<str:code>/", views.commune, name="commune"),
    path("informations/", views.information, name="information"),
    path("referentiel/", views.script, name="script"),
    path("referentiel/brouillon/", views.script_draft, name="script_draft"),
    path("referentiel/fiches/<int:pk>/", views.script_entry, name="script_entry"),
    path("orientation/", views.orientation, name="orientation"),
    path("contacts/nouveau/", views.contact_create, name="contact_create"),
    path("statistiques/", views.stats, name="stats"),
    path("statistiques/export.csv", views.stats_export, {"fmt": "csv"}, name="stats_csv"),
    path("statistiques/export.xlsx", views.stats_export, {"fmt": "xlsx"}, name="stats_xlsx"),
    path("pre-signalements/", views.preflags, name="preflags"),
    path("pre-signalements/<int:pk>/", views.preflag, name="preflag"),
    path("dossiers/<int:case_pk>/acces-menage/", views.household_access, name="household_access"),
    path("acces-menage/<int:pk>/revoquer/", views.household_access_revoke, name="household_access_revoke"),
]

mine = [
    path("", household_views.sign_in, name="sign_in"),
    path("code/", household_views.one_time_code, name="one_time_code"),
    path("sortir/", household_views.sign_out, name="sign_out"),
    path("<str:reference>/", household_views.status, name="status"),
]

urlpatterns = [
    path("accueil/", include((reception, "reception"))),
    path("mon-dossier/", include((mine, "mon_dossier"))),
]
