"""Background tasks of the label area, run by the worker (``manage.py db_worker``; docs/operations.md).

Tasks take ids, never objects: the arguments are stored as JSON in the queue table.
"""

from __future__ import annotations

from django_tasks import task


@task()
def run_batch(batch_id: int) -> str:
    """Read a batch's DDEX files, or sign or withdraw its releases (``registry.labels.batches.batch_run``)."""
    from registry.labels.batches import batch_run

    return batch_run(batch_id).status
