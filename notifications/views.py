"""The notification centre: each user sees their own in-app notifications, and only those about
cases they may still see."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cases.audit import acting_as
from cases.models import ClockPause
from permissions.policy import log_denial, policy
from workflows.queries import case_due_info

from . import services
from .forms import ClockPauseForm, PreferenceForm
from .models import Notification, NotificationPreference
from .outbox import case_path
from .outbox import render as render_message
from .selectors import own_notifications


@login_required
def centre(request):
    rows = own_notifications(request.user)
    unread_only = request.GET.get("filtre") == "non-lues"
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    page = Paginator(rows.order_by("-created_at", "-pk"), 30).get_page(request.GET.get("page"))
    items = []
    for notification in page:
        subject, body = render_message(notification, channel=Notification.Channel.IN_APP)
        items.append({"n": notification, "subject": subject, "body": body})
    return render(
        request,
        "notifications/centre.html",
        {"page": page, "items": items, "unread_only": unread_only, "nav": "notifications"},
    )


@login_required
def open_notification(request, pk: int):
    """Mark as read and go where the notification points (a path stored by the server)."""
    notification = get_object_or_404(own_notifications(request.user), pk=pk)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
    target = notification.context.get("path") or ""
    if not (target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts=None)):
        target = "notifications:centre"
    return redirect(target)


@login_required
@require_POST
def mark_read(request, pk: int):
    notification = get_object_or_404(own_notifications(request.user), pk=pk)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
    return redirect("notifications:centre")


@login_required
@require_POST
def mark_all_read(request):
    count = own_notifications(request.user).filter(read_at__isnull=True).update(read_at=timezone.now())
    messages.success(
        request,
        ngettext("%(count)d notification marquée comme lue.", "%(count)d notifications marquées comme lues.", count)
        % {"count": count},
    )
    return redirect("notifications:centre")


@login_required
def preferences(request):
    pref = NotificationPreference.objects.filter(user=request.user).first() or NotificationPreference(user=request.user)
    form = PreferenceForm(request.POST or None, instance=pref)
    if request.method == "POST" and form.is_valid():
        with acting_as(request.user, "Préférence de notification"):
            form.save()
        messages.success(request, _("Vos préférences sont enregistrées."))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form, "nav": "notifications"})


@login_required
def clock(request, case_pk: int):
    """Suspend or resume the case's step clock (waiting on the household or a document)."""
    case = get_object_or_404(policy.queryset_for(request.user).select_related("household__commune"), pk=case_pk)
    if not services.can_pause(request.user, case):
        log_denial(request, "clock", "case", case.pk)
        raise PermissionDenied
    open_pause = ClockPause.objects.filter(case=case, ended_at__isnull=True).first()
    form = ClockPauseForm(request.POST if request.method == "POST" and not open_pause else None)
    if request.method == "POST":
        try:
            if open_pause:
                services.clock_resume(actor=request.user, case=case)
                messages.success(request, _("Le délai reprend."))
                return redirect("notifications:clock", case_pk=case.pk)
            if form.is_valid():
                services.clock_pause(
                    actor=request.user,
                    case=case,
                    reason=form.cleaned_data["reason"],
                    comment=form.cleaned_data["comment"],
                )
                messages.success(request, _("Le délai est suspendu."))
                return redirect("notifications:clock", case_pk=case.pk)
        except ValidationError as exc:
            form.add_error(None, exc)
    return render(
        request,
        "notifications/clock.html",
        {
            "case": case,
            "open_pause": open_pause,
            "form": form,
            "pauses": ClockPause.objects.filter(case=case).select_related("started_by", "ended_by"),
            "due": case_due_info(case),
            "case_path": case_path(case),
        },
    )
