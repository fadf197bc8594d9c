"""The stored log: contiguous appends, O(log n) proofs for every earlier size, agreement with provenance."""

from __future__ import annotations

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from provenance.checkpoint import parse_checkpoint
from provenance.issue.tree import MemoryTree
from provenance.keys import KeySet
from registry.transparency import log
from registry.transparency.models import Checkpoint, LogNode
from tests import factories


def _append(n: int) -> list[str]:
    data = [f'{{"leaf":{i}}}' for i in range(n)]
    with transaction.atomic():
        for item in data:
            log.append_one(item)
    return data


def test_appends_get_contiguous_indexes_and_a_signed_checkpoint_each(keys):
    data = _append(13)
    assert log.tree_size() == 13
    assert list(Checkpoint.objects.values_list("tree_size", flat=True)) == list(range(1, 14))
    reference = MemoryTree(d.encode() for d in data)
    cp = parse_checkpoint(log.latest_checkpoint().note)
    assert cp.size == 13 and cp.root == reference.root()
    cp.verify(KeySet.from_jwks(keys).of_purpose("checkpoint")[0])


def test_proofs_for_every_earlier_size_match_an_in_memory_tree(keys):
    data = _append(21)
    reference = MemoryTree(d.encode() for d in data)
    for size in range(1, 22):
        assert factories.stored_root(size) == reference.root(size)
        for index in range(size):
            assert log.inclusion_proof(index, size) == reference.inclusion_proof(index, size)
        for first in range(0, size + 1):
            assert log.consistency_proof(first, size) == reference.consistency_proof(first, size)


def test_a_batch_append_signs_one_checkpoint(keys):
    with transaction.atomic():
        appended = log.append(["a", "b", "c"])
    assert [a.index for a in appended] == [0, 1, 2]
    assert {a.tree_size for a in appended} == {3}
    assert Checkpoint.objects.count() == 1


def test_proving_reads_one_batch_of_nodes_whatever_the_size(keys):
    _append(300)
    with CaptureQueriesContext(connection) as small:
        log.inclusion_proof(5, 7)
    with CaptureQueriesContext(connection) as large:
        log.inclusion_proof(123, 300)
        log.consistency_proof(77, 300)
    assert len(small) == 1 and len(large) == 2
    # Complete subtrees are stored, about two nodes per leaf.
    assert LogNode.objects.count() < 2 * 300
