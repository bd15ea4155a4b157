"""Networks are set up by the platform administrators (Django admin); desks and the script are
managed on the /accueil/ pages by the network head and the territory administrators."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import CommuneStock, Desk, Network


@admin.register(Network)
class NetworkAdmin(SimpleHistoryAdmin):
    list_display = ["name", "head_organisation"]
    filter_horizontal = ["communes"]


@admin.register(Desk)
class DeskAdmin(SimpleHistoryAdmin):
    list_display = ["name", "organisation", "level", "commune", "is_active"]
    list_filter = ["level", "is_active", "network"]


@admin.register(CommuneStock)
class CommuneStockAdmin(SimpleHistoryAdmin):
    list_display = ["commune", "typology", "dwellings", "accessible_dwellings", "reference_year"]
