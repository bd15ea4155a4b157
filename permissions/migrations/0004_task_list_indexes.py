"""Indexes for the task lists of permissions.queues (plain SQL: the tables belong to guardian and
viewflow; partial indexes work on PostgreSQL and SQLite alike).

- the queue walks a group's grants in id order: (group_id, id) on guardian's group grants;
- then probes the open unclaimed task each grant unlocks: a partial index on those tasks only;
- the inbox lists the tasks a user has taken, oldest first.
"""

from django.db import migrations

INDEXES = {
    "queue_grant_walk": "guardian_groupobjectpermission (group_id, id)",
    "queue_open_task": (
        "viewflow_task (owner_permission_obj_pk, owner_permission) "
        "WHERE status = 'NEW' AND owner_id IS NULL AND flow_task_type = 'HUMAN'"
    ),
    "inbox_taken_task": "viewflow_task (owner_id, created) WHERE status IN ('ASSIGNED', 'STARTED')",
}


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0003_case_list_index"),
        ("guardian", "0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more"),
        ("viewflow", "0015_task_scheduled"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {target}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, target in INDEXES.items()
    ]
