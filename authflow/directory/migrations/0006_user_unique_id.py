"""user.uniqueId: a UUID per user, given to the users that exist before the column is made unique."""
import uuid

from django.db import migrations, models


def give_each_user_an_id(apps, schema_editor):
    User = apps.get_model("directory", "User")
    for user in User.objects.filter(unique_id__isnull=True).only("pk").iterator():
        User.objects.filter(pk=user.pk).update(unique_id=uuid.uuid4())


class Migration(migrations.Migration):

    dependencies = [
        ('directory', '0005_failed_login_attempts_before_success'),
    ]

    operations = [
        # A default in AddField would give every existing row the same value: add it empty, fill, then constrain.
        migrations.AddField(
            model_name='user',
            name='unique_id',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_each_user_an_id, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='user',
            name='unique_id',
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
