"""Per-label catalog: UPC/ISRC unique per label; a track's facts move from the shared recording to the track."""

from django.db import migrations, models


def copy_facts_to_tracks(apps, schema_editor):
    Track = apps.get_model("catalog", "Track")
    for track in Track.objects.select_related("recording").iterator(chunk_size=2000):
        rec = track.recording
        track.title, track.duration, track.audio_sha256 = rec.title, rec.duration, rec.audio_sha256
        track.save(update_fields=["title", "duration", "audio_sha256"])
        artists = list(rec.artists.all())
        if artists:
            track.artists.set(artists)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_initial")]

    operations = [
        migrations.AddField(
            model_name="track", name="title", field=models.CharField(max_length=500, default=""), preserve_default=False
        ),
        migrations.AddField(
            model_name="track",
            name="duration",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="duration (seconds)"),
        ),
        migrations.AddField(
            model_name="track", name="audio_sha256", field=models.CharField(blank=True, max_length=64, null=True)
        ),
        migrations.AddField(
            model_name="track",
            name="artists",
            field=models.ManyToManyField(blank=True, related_name="tracks", to="catalog.artist"),
        ),
        migrations.RunPython(copy_facts_to_tracks, migrations.RunPython.noop),
        migrations.RemoveField(model_name="recording", name="title"),
        migrations.RemoveField(model_name="recording", name="duration"),
        migrations.RemoveField(model_name="recording", name="audio_sha256"),
        migrations.RemoveField(model_name="recording", name="artists"),
        migrations.AlterField(
            model_name="release",
            name="upc",
            field=models.CharField(db_index=True, max_length=14, verbose_name="UPC/EAN"),
        ),
        migrations.AlterField(
            model_name="recording",
            name="isrc",
            field=models.CharField(db_index=True, max_length=12, verbose_name="ISRC"),
        ),
        migrations.AddConstraint(
            model_name="release",
            constraint=models.UniqueConstraint(fields=("label", "upc"), name="unique_release_upc_per_label"),
        ),
        migrations.AddConstraint(
            model_name="recording",
            constraint=models.UniqueConstraint(fields=("label", "isrc"), name="unique_recording_isrc_per_label"),
        ),
    ]
