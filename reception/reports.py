"""The network head's counts of information delivered: per desk, level, topic and month (CSV, XLSX).

Contacts carry no personal data, so these counts are exact (no small-number masking: a count of
visits identifies nobody)."""

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _

from cases import tabular

from .choices import Channel, DeskLevel, Topic
from .models import Contact, ContactTopic


def contacts_in(networks, start=None, end=None):
    qs = Contact.objects.filter(desk__network__in=networks)
    if start:
        qs = qs.filter(on__gte=start)
    if end:
        qs = qs.filter(on__lte=end)
    return qs


def summary(contacts) -> dict:
    """Four tables, each a list of (label, count), in a fixed number of queries."""
    by_desk = contacts.values("desk__name", "desk__commune__name").annotate(n=Count("pk")).order_by("desk__name")
    by_level = contacts.values("level").annotate(n=Count("pk")).order_by("level")
    by_month = contacts.annotate(month=TruncMonth("on")).values("month").annotate(n=Count("pk")).order_by("month")
    by_topic = (
        ContactTopic.objects.filter(contact__in=contacts.values("pk"))
        .values("topic")
        .annotate(n=Count("pk"))
        .order_by("-n", "topic")
    )
    return {
        "total": contacts.count(),
        "referrals": contacts.filter(referral__isnull=False).count(),
        "desk": [(f"{r['desk__name']} ({r['desk__commune__name']})", r["n"]) for r in by_desk],
        "level": [(DeskLevel(r["level"]).label, r["n"]) for r in by_level],
        "topic": [(Topic(r["topic"]).label, r["n"]) for r in by_topic],
        "month": [(r["month"].strftime("%m/%Y"), r["n"]) for r in by_month],
    }


def export_rows(contacts):
    """Per desk, month, level, channel and topic (a contact with two topics counts once per topic)."""
    header = [_("Lieu"), _("Commune"), _("Mois"), _("Niveau"), _("Canal"), _("Thème"), _("Contacts"), _("Orientations")]
    data = (
        ContactTopic.objects.filter(contact__in=contacts.values("pk"))
        .annotate(month=TruncMonth("contact__on"))
        .values(
            "contact__desk__name",
            "contact__desk__commune__name",
            "month",
            "contact__level",
            "contact__channel",
            "topic",
        )
        .annotate(n=Count("pk"), referrals=Count("contact__referral"))
        .order_by("contact__desk__name", "month", "contact__level", "contact__channel", "topic")
    )
    yield header
    for r in data:
        yield [
            r["contact__desk__name"],
            r["contact__desk__commune__name"],
            r["month"].strftime("%Y-%m"),
            r["contact__level"],
            str(Channel(r["contact__channel"]).label),
            str(Topic(r["topic"]).label),
            r["n"],
            r["referrals"],
        ]


def as_csv(contacts) -> bytes:
    return tabular.as_csv(export_rows(contacts))


def as_xlsx(contacts) -> bytes:
    return tabular.as_xlsx(export_rows(contacts), _("Informations délivrées"))
