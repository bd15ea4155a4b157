from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "accounts"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="accounts:otp_verify"), name="otp_root"),
    path("enrolement/", views.enrol, name="otp_enrol"),
    path("verification/", views.verify, name="otp_verify"),
    path("codes-de-secours/", views.renew_recovery_codes, name="recovery_codes"),
]
