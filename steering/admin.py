from django.contrib import admin

from .models import Allocation, DeclaredAllocations, TerritoryYear


@admin.register(TerritoryYear)
class TerritoryYearAdmin(admin.ModelAdmin):
    list_display = ("epci_name", "epci_siren", "year", "first_quartile_threshold", "threshold_published_on")
    list_filter = ("year",)


@admin.register(DeclaredAllocations)
class DeclaredAllocationsAdmin(admin.ModelAdmin):
    list_display = ("epci_siren", "year", "landlord", "reservataire", "outside_qpv", "inside_qpv")
    list_filter = ("year",)


@admin.register(Allocation)
class AllocationAdmin(admin.ModelAdmin):
    list_display = ("case", "landlord", "reservataire", "in_qpv", "is_dalo", "quartile", "lease_signed_on")
    list_filter = ("in_qpv", "is_dalo", "quartile")
    readonly_fields = [f.name for f in Allocation._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
