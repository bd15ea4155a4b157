from django.urls import path

from . import views

app_name = "committees"

urlpatterns = [
    path("", views.committee_list, name="list"),
    path("<int:pk>/", views.committee_detail, name="detail"),
    path("seances/<int:pk>/", views.session_detail, name="session"),
    path("seances/<int:pk>/ouvrir/", views.session_open, name="session_open"),
    path("seances/<int:pk>/clore/", views.session_close, name="session_close"),
    path("seances/<int:pk>/presences/", views.attendance, name="attendance"),
    path("seances/<int:pk>/ordre-du-jour/ajouter/", views.agenda_add, name="agenda_add"),
    path("seances/<int:pk>/ordre-du-jour/proposer/", views.agenda_fill, name="agenda_fill"),
    path("seances/<int:pk>/proces-verbal.pdf", views.minutes_download, name="minutes"),
    path("seances/<int:pk>/dossiers/<int:item_pk>/", views.item_detail, name="item"),
    path("seances/<int:pk>/dossiers/<int:item_pk>/retirer/", views.item_remove, name="item_remove"),
    path("seances/<int:pk>/dossiers/<int:item_pk>/deplacer/", views.item_move, name="item_move"),
    path("seances/<int:pk>/dossiers/<int:item_pk>/avis/", views.item_vote, name="item_vote"),
    path("seances/<int:pk>/dossiers/<int:item_pk>/deport/", views.item_recusal, name="item_recusal"),
    path("seances/<int:pk>/dossiers/<int:item_pk>/decision/", views.item_decide, name="item_decide"),
    path("seances/<int:pk>/dossiers/<int:item_pk>/main-levee/", views.item_hands, name="item_hands"),
    path("seances/<int:pk>/dossiers/<int:item_pk>/rectificatif/", views.item_amend, name="item_amend"),
    path("seances/<int:pk>/dossiers/<int:item_pk>/courrier.pdf", views.letter_download, name="letter"),
    path("<int:pk>/procedures-ecrites/ouvrir/", views.procedure_open, name="procedure_open"),
    path("procedures-ecrites/<int:pk>/", views.procedure_detail, name="procedure"),
    path("procedures-ecrites/<int:pk>/vote/", views.procedure_vote, name="procedure_vote"),
    path("procedures-ecrites/<int:pk>/deport/", views.procedure_recusal, name="procedure_recusal"),
    path("procedures-ecrites/<int:pk>/issue/", views.procedure_decide, name="procedure_decide"),
    path("procedures-ecrites/<int:pk>/annuler/", views.procedure_cancel, name="procedure_cancel"),
    path("procedures-ecrites/<int:pk>/courrier.pdf", views.procedure_letter, name="procedure_letter"),
]
