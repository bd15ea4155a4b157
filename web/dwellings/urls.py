from django.urls import path

from . import views

app_name = "dwellings"

urlpatterns = [
    path("", views.DwellingList.as_view(), name="list"),
    path("nouveau/", views.DwellingCreate.as_view(), name="create"),
    path("refus/", views.RefusalReport.as_view(), name="refusals"),
    path("<int:pk>/", views.DwellingDetail.as_view(), name="detail"),
    path("<int:pk>/proposer/", views.DwellingDetail.as_view(), {"action": "propose"}, name="propose"),
    path("<int:pk>/candidats/<int:proposal_pk>/<slug:action>/", views.DwellingDetail.as_view(), name="action"),
]
