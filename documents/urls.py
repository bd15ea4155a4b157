from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path("dossiers/<int:case_pk>/documents/", views.CaseDocumentsView.as_view(), name="case"),
    path("dossiers/<int:case_pk>/documents/ajouter/", views.UploadView.as_view(), name="upload"),
    path("dossiers/<int:case_pk>/courriers/", views.LetterView.as_view(), name="letter"),
    path("documents/<int:pk>/telecharger/", views.DownloadView.as_view(), name="download"),
    path("documents/modeles/", views.TemplateListView.as_view(), name="templates"),
    path("documents/modeles/<str:departement>/<str:kind>/", views.TemplateEditView.as_view(), name="template_edit"),
]
