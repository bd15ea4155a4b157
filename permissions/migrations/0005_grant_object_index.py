"""The grants of one case, found by the case (plain SQL: the table belongs to guardian).

django-guardian 3 dropped its (content_type, object_pk) index; its remaining indexes all lead with
the permission or the group. Every transition reads and rewrites the grants of its case
(permissions.grants.sync_case_grants) and the notifications read who holds a step on it
(notifications.recipients.step_holders): without this index each of those reads scans the grants
of a whole permission, a cost that grows with the number of cases.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("permissions", "0004_task_list_indexes")]

    operations = [
        migrations.RunSQL(
            sql="CREATE INDEX IF NOT EXISTS grant_object ON guardian_groupobjectpermission (object_pk, content_type_id)",
            reverse_sql="DROP INDEX IF EXISTS grant_object",
        )
    ]
