"""The commit point of a partition is its lowest unfinished record."""

import pytest

from delivery.offsets import PartitionOffsets


def test_nothing_fetched_means_nothing_to_commit():
    assert PartitionOffsets().committable() is None


def test_a_finished_later_record_does_not_move_the_commit_point_past_an_unfinished_earlier_one():
    offsets = PartitionOffsets()
    for o in (10, 11, 12):
        offsets.fetched(o)
    offsets.finished(12)
    offsets.finished(11)
    assert offsets.committable() == 10
    offsets.finished(10)
    assert offsets.committable() == 13
    assert offsets.unfinished == 0


def test_needs_commit_only_when_the_point_moved():
    offsets = PartitionOffsets()
    offsets.fetched(0)
    offsets.finished(0)
    assert offsets.needs_commit() == 1
    offsets.committed = 1
    assert offsets.needs_commit() is None


def test_fetching_backwards_is_refused():
    offsets = PartitionOffsets()
    offsets.fetched(5)
    with pytest.raises(ValueError):
        offsets.fetched(4)
