"""Index for case lists (newest first, LIMIT 50) under the policy filter.

cases/ migrations belong to another branch, so the index is created here with plain SQL (valid on
PostgreSQL and SQLite). If cases/ later declares an equivalent Meta index, drop this one there.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("permissions", "0002_shares_break_glass"),
    ]

    operations = [
        migrations.RunSQL(
            sql="CREATE INDEX IF NOT EXISTS access_case_created_at ON cases_case (created_at DESC, id DESC)",
            reverse_sql="DROP INDEX IF EXISTS access_case_created_at",
        ),
    ]
