from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('conversations', '0002_followup_events'),
    ]

    operations = [
        migrations.AddField(
            model_name='visit',
            name='content_hash',
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
    ]
