"""Transaction marks (cases/txmarks.py): alive while what was written beside them is, gone with a
rolled-back savepoint or the end of the transaction."""

import pytest
from django.db import transaction

from cases import txmarks


@pytest.mark.django_db
def test_a_mark_lives_and_dies_with_its_savepoint():
    with transaction.atomic():
        outer = txmarks.mark("k")
        assert txmarks.marked("k") and id(outer) in txmarks.alive_marks()
        with pytest.raises(RuntimeError), transaction.atomic():
            inner = txmarks.mark("inner")
            assert txmarks.marked("inner")
            raise RuntimeError
        assert not txmarks.marked("inner") and id(inner) not in txmarks.alive_marks()
        assert txmarks.marked("k")
        txmarks.unmark({"k"})
        assert not txmarks.marked("k")
