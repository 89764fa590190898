"""SPEC R12: a power cut at any write point of a whole session leaves the old
or the new copy of profile, progression and log, never a broken or mixed
one, and the limits in force never widen beyond both."""
import os
import sys

import pytest
from hypothesis import given, settings, strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cutrig  # noqa: E402
from simulator.flash import FlashFs, PowerLost  # noqa: E402
from session.storage import Storage  # noqa: E402
from session import profiles  # noqa: E402

IMAGE = cutrig.initial_image()


@pytest.mark.parametrize("rename_replaces", [True, False], ids=["littlefs", "fat"])
def test_cut_at_every_write_point_of_a_session(rename_replaces):
    committed = cutrig.committed_states(IMAGE, rename_replaces)
    points = committed[-1][1]
    assert points >= 20     # profile + 3 log appends + progression, several points each
    # The session really changes things: the new limits differ from the old.
    first, last = committed[0][0], committed[-1][0]
    assert cutrig.limits_of(*first[:2]) != cutrig.limits_of(*last[:2])
    assert last[1]["level"] == first[1]["level"] + 1
    outcomes = set()
    for n in range(1, points + 1):
        for seed in range(8):
            cut_in, loaded, notes, _ = cutrig.run_cut(IMAGE, n, seed, rename_replaces)
            problem = cutrig.check_cut(committed, cut_in, loaded, notes)
            assert problem == "", "cut at write point %d (seed %d): %s" % (n, seed, problem)
            outcomes.add((cut_in, loaded == committed[cut_in][0]))
    # Every operation was seen both not yet applied and already applied.
    ops = len(committed) - 1
    assert outcomes == {(i, b) for i in range(1, ops + 1) for b in (False, True)}


@pytest.mark.parametrize("rename_replaces", [True, False], ids=["littlefs", "fat"])
def test_after_any_cut_the_next_session_writes_cleanly(rename_replaces):
    """Power back on, the same session's writes run again (the retry), to the
    end: everything loads with no complaint and no pending copy is left."""
    committed = cutrig.committed_states(IMAGE, rename_replaces)
    for n in range(1, committed[-1][1] + 1):
        _, _, _, fs = cutrig.run_cut(IMAGE, n, n, rename_replaces)
        st = Storage(fs)
        box = [cutrig.load_state(fs)[1]]
        for op in cutrig.operations(st, box):
            op()
        profile, state, lines, notes = cutrig.load_state(fs)
        assert profile == profiles.validate(cutrig.PROFILE_NEW)
        assert [note for note in notes if note] == []
        assert lines[-1] == committed[-1][0][2][-1]
        assert not any(name.endswith(".new") for name in fs.listdir())


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(1, 30), min_size=1, max_size=4), seed=st.integers(0, 10 ** 6),
       fat=st.booleans())
def test_repeated_cuts_during_recovery_and_rewrites(cuts, seed, fat):
    """Cut, power on, cut again while the board retries writes: each load is
    the copy loaded before that write or the copy it was writing."""
    fs = FlashFs.from_image(IMAGE, seed, not fat)
    st_ = Storage(fs)
    before = profiles.load(st_)[0]
    for k, n in enumerate(cuts):
        target = profiles.validate({"name": "v%d" % k, "level": k % 4, "hold_s": 30 + k})
        fs.cut_at(n)
        try:
            profiles.save(st_, target)
        except PowerLost:
            pass
        fs.power_on()
        loaded, note = profiles.load(st_)
        assert loaded in (before, target), note
        assert "corrupt" not in note and "invalid" not in note
        before = loaded
