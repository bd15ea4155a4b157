from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import views

app_name = "api"

v1 = [
    path("cases/", views.CaseList.as_view(), name="case-list"),
    path("cases/<int:pk>/", views.CaseDetail.as_view(), name="case-detail"),
    path("cases/<int:pk>/match/", views.MatchCheck.as_view(), name="case-match"),
    path("cases/<int:pk>/proposal/", views.ProposalCreate.as_view(), name="case-proposal"),
    path("cases/<int:pk>/caleol-decision/", views.CaleolCreate.as_view(), name="case-caleol"),
    path("cases/<int:pk>/notification/", views.NotificationCreate.as_view(), name="case-notification"),
    path("cases/<int:pk>/condition-met/", views.ConditionCreate.as_view(), name="case-condition"),
    path("cases/<int:pk>/reply/", views.ReplyCreate.as_view(), name="case-reply"),
    path("cases/<int:pk>/lease/", views.LeaseCreate.as_view(), name="case-lease"),
    path("proposals/", views.ProposalList.as_view(), name="proposal-list"),
    path("dwellings/", views.DwellingList.as_view(), name="dwelling-list"),
    path("dwellings/<int:pk>/", views.DwellingDetail.as_view(), name="dwelling-detail"),
]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("v1/", include(v1)),
]
