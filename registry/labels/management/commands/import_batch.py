"""``manage.py import_batch --label ID --user NAME FILE...``: read DDEX ERN files (or zips of them) into a label's drafts.

The same checks and code as the web batch (``registry.labels.archives``,
``registry.labels.batches``), run here in the foreground with a progress bar; the
batch shows on the label's batch pages afterwards. Nothing is signed.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from registry.catalog.models import Label, Membership
from registry.errors import DomainError
from registry.labels import archives, batches, ern
from registry.labels.models import Batch

BAR_WIDTH = 30


class _Upload(io.BytesIO):
    """A file on disk shaped like an uploaded file (name, size) for ``archives.files_from_uploads``."""

    def __init__(self, path: Path) -> None:
        super().__init__(path.read_bytes())
        self.name = path.name
        self.size = len(self.getvalue())


class Command(BaseCommand):
    help = "Read DDEX ERN files (or one zip of them) into a label's batch drafts, with a progress bar."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("files", nargs="+", help="ERN .xml files, or one .zip of them")
        parser.add_argument("--label", type=int, required=True, help="the label's id")
        parser.add_argument("--user", required=True, help="the member the drafts are recorded as (username)")

    def handle(self, *args: Any, files: list[str], label: int, user: str, **options: Any) -> None:
        found = Label.objects.filter(pk=label).first()
        if found is None:
            raise CommandError(f"no label {label}")
        member = get_user_model().objects.filter(username=user).first()
        if member is None or not Membership.objects.filter(label=found, user=member).exists():
            raise CommandError(f"{user} is not a member of {found.name}")
        paths = [Path(f) for f in files]
        for p in paths:
            if not p.is_file():
                raise CommandError(f"{p}: no such file")
            # Checked before reading, as the web upload is.
            if p.stat().st_size > max(archives.BATCH_MAX_BYTES, ern.MAX_BYTES):
                raise CommandError(f"{p}: over {archives.BATCH_MAX_BYTES // 2**20} MB")
        try:
            contents = archives.files_from_uploads([_Upload(p) for p in paths])
        except DomainError as exc:
            raise CommandError(exc.message) from None
        batch = batches.ern_batch_create(label=found, user=member, files=contents)
        # Run it here rather than wait for the worker; a worker that picks the task up finds it done.
        batch = batches.batch_run(batch.pk, progress=self._bar)
        self.stdout.write("")
        for r in batch.results:
            mark = "ok " if r["ok"] else "ERR"
            self.stdout.write(f"{mark} {r['name']}: {r.get('upc') or ''} {r['message']}")
        failed = sum(1 for r in batch.results if not r["ok"])
        self.stdout.write(f"batch {batch.pk}: {len(batch.results) - failed} read, {failed} refused ({batch.status})")
        if batch.status == Batch.FAILED:
            raise CommandError("the batch stopped on an unexpected error (see the log)")

    def _bar(self, batch: Batch) -> None:
        done, total = len(batch.results), max(batch.total, 1)
        filled = BAR_WIDTH * done // total
        self.stdout.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{batch.total}", ending="")
        self.stdout.flush()
