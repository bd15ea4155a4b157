from django.db import migrations


def load(apps, schema_editor):
    from cases.reference import load_communes

    load_communes(apps.get_model("cases", "Commune"))


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
