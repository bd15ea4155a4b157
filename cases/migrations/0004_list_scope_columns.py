"""Columns copied for the list scopes of permissions.policy (commission and landlord), filled from
the rows they copy. Neither enters the history tables (their digests are chained)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0003_offers'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='decided_in_committee',
            field=models.BooleanField(default=False, editable=False, verbose_name='examiné en commission'),
        ),
        migrations.AddField(
            model_name='proposal',
            name='landlord',
            field=models.ForeignKey(editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cases.organisation', verbose_name='bailleur'),
        ),
        migrations.RunSQL(
            sql=[
                "UPDATE cases_proposal SET landlord_id = "
                "(SELECT landlord_id FROM cases_dwelling WHERE cases_dwelling.id = cases_proposal.dwelling_id)",
                "UPDATE cases_case SET decided_in_committee = TRUE "
                "WHERE id IN (SELECT case_id FROM cases_committeereview)",
            ],
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name='proposal',
            name='landlord',
            field=models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='cases.organisation', verbose_name='bailleur'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(models.OrderBy(models.F('created_at'), descending=True), models.OrderBy(models.F('id'), descending=True), condition=models.Q(('status', 'committee'), ('decided_in_committee', True), _connector='OR'), name='case_commission_list'),
        ),
        migrations.AddIndex(
            model_name='proposal',
            index=models.Index(fields=['landlord', 'case'], name='proposal_landlord_case'),
        ),
    ]
