from django.urls import path

from . import delegations, views

app_name = "permissions"

urlpatterns = [
    path("", views.membership_list, name="membership_list"),
    path("nouveau/", views.membership_create, name="membership_create"),
    path("<int:pk>/desactiver/", views.membership_deactivate, name="membership_deactivate"),
    path("dossiers/<int:case_pk>/protection/", views.case_protection, name="case_protection"),
    path("dossiers/<int:case_pk>/acces-exceptionnel/", views.break_glass, name="break_glass"),
    path("dossiers/<int:case_pk>/partages/", views.case_shares, name="case_shares"),
    path("partages/<int:pk>/revoquer/", views.share_revoke, name="share_revoke"),
    path("absences/", delegations.delegation_list, name="delegations"),
    path("absences/<int:pk>/terminer/", delegations.delegation_revoke, name="delegation_revoke"),
]
