"""SPEC R3 progression: examples, then properties over random session histories."""
import time

import pytest
from hypothesis import given, settings, strategies as st

from simulator.flash import FlashFs
from session.storage import Storage
from session import progression
from session.progression import decide
from safety.limits import compute_limits
from safety import spec

C = (True, False)       # completed
S = (False, True)       # stopped for symptoms
N = (False, False)      # neither (a fault, a lost heartbeat)


def hist(level, *sessions, day=100):
    """Records at `level`, one a day from `day`; a session is (completed, symptoms)
    or (completed, symptoms, day)."""
    out = []
    for i, s in enumerate(sessions):
        d = s[2] if len(s) > 2 else day + i
        out.append([d, level, s[0], s[1]])
    return out


def test_three_completed_sessions_over_two_days_earn_a_level():
    assert decide(hist(1, C, C, C), 1, False, 102)[0] == 2
    assert decide(hist(1, C, C), 1, False, 102)[0] == 1


def test_at_most_one_level_per_two_days():
    same_day = hist(1, C + (100,), C + (100,), C + (101,))
    assert decide(same_day, 1, False, 101)[0] == 1
    assert decide(same_day, 1, False, 102)[0] == 2


def test_no_level_up_without_a_date():
    h = hist(0, C, C, C)
    assert decide(h, 0, False, None) == (0, "clock not set: no level-up without a date")
    undated = [[None, 0, True, False]] * 3
    assert decide(undated, 0, False, 500)[0] == 0


def test_a_clock_set_backwards_earns_nothing():
    assert decide(hist(1, C, C, C, day=200), 1, False, 150)[0] == 1


def test_a_symptom_stop_holds_and_restarts_the_count():
    assert decide(hist(2, C, C, S), 2, False, 110)[0] == 2
    assert decide(hist(2, C, C, S, C, C), 2, False, 110)[0] == 2
    assert decide(hist(2, C, C, S, C, C, C), 2, False, 110)[0] == 3


def test_two_symptom_stops_in_a_row_drop_a_level():
    assert decide(hist(2, C, S, S), 2, False, 110)[0] == 1
    assert decide(hist(2, S, N, S), 2, False, 110)[0] == 1     # a fault in between
    assert decide(hist(2, S, C, S), 2, False, 110)[0] == 2     # not in a row
    assert decide(hist(0, S, S), 0, False, 110)[0] == 0


def test_a_drop_starts_a_new_count():
    h = hist(2, S, S) + hist(1, S, day=102)
    assert decide(h, 1, False, 102)[0] == 1


def test_level_three_is_the_top_without_full_inversion():
    assert decide(hist(3, C, C, C), 3, False, 200)[0] == 3
    assert decide(hist(3, C, C, C), 3, True, 200)[0] == 4
    assert decide(hist(4, C, C, C), 4, True, 200)[0] == 4
    assert decide([], 4, False, 200)[0] == 3


def test_unix_day_and_clock():
    assert progression.unix_day(1970, 1, 1) == 0
    for t in (0, 86399, 951782400, 1700000000, 4102444800):
        tm = time.gmtime(t)
        assert progression.unix_day(tm[0], tm[1], tm[2]) == t // 86400
    assert progression.today_of((2000, 1, 1, 0, 0, 0, 5, 1)) is None
    assert progression.today_of(time.gmtime(1767225600)) == 1767225600 // 86400
    assert progression.today_from_unix(0) is None
    assert progression.today_from_unix(None) is None
    assert progression.today_from_unix(86400 * 365) is None        # 1971: never set
    assert progression.today_from_unix(1767225600 + 5) == 1767225600 // 86400


# -- stored state ---------------------------------------------------------------------

def test_state_survives_in_storage_and_record_does_not_mutate():
    fs = FlashFs(0)
    s = Storage(fs)
    profile = {"level": 1}
    state, note = progression.load(s, profile)
    assert state == progression.new_state(1, 1) and note == ""
    for day in (10, 11, 12):
        before = repr(state)
        new, _ = progression.record(s, state, profile, True, False, day)
        assert repr(state) == before
        state = new
    assert state["level"] == 2
    assert progression.load(s, profile) == (state, "")
    assert progression.effective_profile(profile, state) == {"level": 2}


def test_corrupt_progression_restarts_at_level_zero():
    fs = FlashFs(0)
    s = Storage(fs)
    progression.record(s, progression.new_state(3, 3), {"level": 3}, True, False, 5)
    fs.corrupt(progression.RECORD)
    state, note = progression.load(s, {"level": 3})
    assert state["level"] == 0 and "corrupt" in note


@pytest.mark.parametrize("payload", [b"[]", b'{"level": 9, "base": 1, "history": []}',
                                     b'{"level": 1, "base": 1, "history": [[1, 1, 1, 0]]}',
                                     b"garbage"])
def test_invalid_progression_restarts_at_level_zero(payload):
    fs = FlashFs(0)
    Storage(fs).write(progression.RECORD, payload)
    state, note = progression.load(Storage(fs), {"level": 2})
    assert state["level"] == 0 and "invalid" in note


def test_clinician_level_change_restarts_progression():
    fs = FlashFs(0)
    s = Storage(fs)
    state = progression.new_state(1, 1)
    for day in (1, 2, 3):
        state, _ = progression.record(s, state, {"level": 1}, True, False, day)
    assert state["level"] == 2
    assert progression.load(s, {"level": 1})[0]["level"] == 2
    state, note = progression.load(s, {"level": 0})
    assert state == progression.new_state(0, 0) and "restarts" in note


def test_full_inversion_withdrawn_caps_the_stored_level():
    fs = FlashFs(0)
    s = Storage(fs)
    Storage(fs).write(progression.RECORD, progression.encode(
        {"level": 4, "base": 3, "history": []}))
    state, _ = progression.load(s, {"level": 3, "full_inversion": False})
    assert state["level"] == 3
    eff = progression.effective_profile({"level": 3}, {"level": 4, "base": 3, "history": []})
    assert eff["level"] == 3


# -- properties over random histories -----------------------------------------------------

_session = st.tuples(st.integers(0, 3),                       # days since the last session
                     st.booleans(),                           # clock known
                     st.sampled_from(["completed", "symptoms", "neither"]))


@settings(max_examples=400, deadline=None)
@given(sessions=st.lists(_session, max_size=60), start=st.integers(0, 4),
       full_inversion=st.booleans(), stored=st.booleans())
def test_progression_properties(sessions, start, full_inversion, stored):
    profile = {"level": min(start, progression.top_level(full_inversion)),
               "full_inversion": full_inversion}
    s = Storage(FlashFs(0))
    state = progression.new_state(profile["level"], profile["level"])
    real_day = 1000
    last_change = None        # real day of the last level change, if any
    last_up = None
    row = 0                   # symptom stops in a row at this level (neutral skipped)
    last_symptom = -100
    for index, (gap, known, kind) in enumerate(sessions):
        real_day += gap
        today = real_day if known else None
        level = state["level"]
        completed = kind == "completed"
        symptoms = kind == "symptoms"
        if stored:
            state, _ = progression.record(s, state, profile, completed, symptoms, today)
        else:
            h = state["history"] + [[today, level, completed, symptoms]]
            new_level, _ = decide(h, level, full_inversion, today)
            state = {"level": new_level, "base": state["base"],
                     "history": h[-progression.HISTORY_MAX:]}
        new = state["level"]
        if symptoms:
            # The row is seen through the stored history (HISTORY_MAX sessions).
            row = row + 1 if index - last_symptom < progression.HISTORY_MAX else 1
            last_symptom = index
        elif completed:
            row = 0

        # Never above 60 degrees (level 3) without full_inversion.
        assert new <= progression.top_level(full_inversion)
        if not full_inversion:
            lim = compute_limits(progression.effective_profile(profile, state), {})
            assert lim.cap_mdeg <= spec.FULL_INVERSION_ABOVE_MDEG
        # One level at a time.
        assert abs(new - level) <= 1
        if new > level:
            # Unknown dates never level up.
            assert today is not None
            assert not symptoms
            # Never more than one level per 2 days (since any level change).
            if last_change is not None:
                assert real_day - last_change >= progression.DAYS_PER_LEVEL
            if last_up is not None:
                assert real_day - last_up >= progression.DAYS_PER_LEVEL
            last_up = real_day
        if row >= 2:
            # Two STOPs for symptoms in a row drop a level.
            assert new == max(level - 1, 0)
        elif new < level:
            raise AssertionError("dropped without two symptom stops in a row")
        if new != level:
            last_change = real_day
            row = 0
    if stored:
        assert progression.load(s, profile)[0] == state


@settings(max_examples=100, deadline=None)
@given(level=st.integers(0, 3), full_inversion=st.booleans(), gaps=st.lists(
    st.integers(1, 3), min_size=3, max_size=3))
def test_daily_completed_sessions_with_the_clock_set_do_progress(level, full_inversion, gaps):
    h = []
    day = 500
    for g in gaps:
        day += g
        h.append([day, level, True, False])
    new, _ = decide(h, level, full_inversion, day)
    top = progression.top_level(full_inversion)
    if level < top and day - h[0][0] >= progression.DAYS_PER_LEVEL:
        assert new == level + 1
    else:
        assert new == level
