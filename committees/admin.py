"""Setting committees up (territory administrators): seats go through the service so the matching
commission membership, territory and step grants follow."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .models import Committee, CommitteeMember, Session


class CommitteeMemberInline(admin.TabularInline):
    model = CommitteeMember
    extra = 0
    fields = ["user", "organisation", "function", "has_vote", "is_active"]
    readonly_fields = ["user", "organisation", "function", "has_vote", "is_active"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # add seats from the "membres de commission" page (it syncs memberships)


@admin.register(Committee)
class CommitteeAdmin(SimpleHistoryAdmin):
    list_display = ["name", "quorum_rule", "decision_mode", "is_active"]
    filter_horizontal = ["communes"]
    inlines = [CommitteeMemberInline]


@admin.register(CommitteeMember)
class CommitteeMemberAdmin(SimpleHistoryAdmin):
    list_display = ["user", "committee", "organisation", "function", "has_vote", "is_active"]
    list_filter = ["committee", "function", "is_active"]
    autocomplete_fields = []

    def save_model(self, request, obj, form, change):
        if obj.is_active:
            seat = services.committee_member_add(
                actor=request.user,
                committee=obj.committee,
                user=obj.user,
                organisation=obj.organisation,
                function=obj.function,
                has_vote=obj.has_vote,
            )
            obj.pk = seat.pk
        elif change:
            services.committee_member_remove(actor=request.user, seat=obj)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: votes and attendance refer to the seat


@admin.register(Session)
class SessionAdmin(SimpleHistoryAdmin):
    list_display = ["committee", "starts_at", "status"]
    list_filter = ["committee", "status"]
    readonly_fields = ["status", "opened_at", "closed_at", "created_by"]

    def has_add_permission(self, request):
        return False  # sessions are planned from the committee page

    def has_change_permission(self, request, obj=None):
        return False
