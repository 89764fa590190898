"""Profiles: every field checked, refusals name the field and change nothing,
and a missing, corrupt or invalid stored profile gives the beginner one."""
import copy
import json
import sys

import pytest
from hypothesis import given, settings, strategies as st

from simulator.flash import FlashFs
from session.storage import Storage
from session import profiles
from session.profiles import ProfileError
import profile_schema
from safety.limits import compute_limits, CONTRAINDICATIONS
from safety import spec

BOARD = {"home_deg": -70, "mech_max_deg": 90}

FULL = {"name": "Ann B", "level": 4, "age": 60, "mass_kg": 82.5, "full_inversion": True,
        "contraindications": ["glaucoma"], "override_cap_deg": 20, "cap_deg": 60,
        "hold_s": 120, "session_s": 600, "rate_deg_s": 6, "dwell_s": 180,
        "heartbeat_timeout_s": 0.2, "preferred_angle": 40}


def test_a_full_valid_profile_passes_unchanged():
    assert profiles.validate(FULL) == FULL
    assert profiles.validate({}) == {}


BAD = [
    ({"lvl": 1}, "lvl"),
    ({"level": 5}, "level"),
    ({"level": -1}, "level"),
    ({"level": 1.0}, "level"),
    ({"level": True}, "level"),
    ({"age": "40"}, "age"),
    ({"age": 40.5}, "age"),
    ({"age": 200}, "age"),
    ({"mass_kg": 0}, "mass_kg"),
    ({"mass_kg": 1000}, "mass_kg"),
    ({"mass_kg": float("nan")}, "mass_kg"),
    ({"full_inversion": 1}, "full_inversion"),
    ({"contraindications": "glaucoma"}, "contraindications"),
    ({"contraindications": ["flu"]}, "contraindications"),
    ({"contraindications": ["vertigo", "vertigo"]}, "contraindications"),
    ({"override_cap_deg": 91}, "override_cap_deg"),
    ({"override_cap_deg": -1}, "override_cap_deg"),
    ({"cap_deg": 95}, "cap_deg"),
    ({"cap_deg": None}, "cap_deg"),
    ({"hold_s": 0}, "hold_s"),
    ({"hold_s": 301}, "hold_s"),
    ({"session_s": 601}, "session_s"),
    ({"rate_deg_s": 0.4}, "rate_deg_s"),
    ({"rate_deg_s": 6.5}, "rate_deg_s"),
    ({"dwell_s": 181}, "dwell_s"),
    ({"dwell_s": -1}, "dwell_s"),
    ({"heartbeat_timeout_s": 0.1}, "heartbeat_timeout_s"),
    ({"heartbeat_timeout_s": 6}, "heartbeat_timeout_s"),
    ({"preferred_angle": 91}, "preferred_angle"),
    ({"preferred_angle": "60"}, "preferred_angle"),
    ({"name": ""}, "name"),
    ({"name": "x" * 33}, "name"),
    ({"name": "a,b"}, "name"),
    ({"name": 7}, "name"),
]


@pytest.mark.parametrize("bad,field", BAD, ids=[repr(b) for b, _ in BAD])
def test_invalid_profiles_are_refused_naming_the_field(bad, field):
    with pytest.raises(ProfileError) as info:
        profiles.validate(bad)
    assert str(info.value).startswith(field + ":")


def test_level_4_without_full_inversion_is_stored_and_capped_at_60():
    # SPEC R1/R3: level 4 is a level like the others; above 60 needs the flag too.
    fs = FlashFs(0)
    s = Storage(fs)
    assert profiles.save(s, {"level": 4}) == {"level": 4}
    assert profiles.load(s) == ({"level": 4}, "")
    room = dict(BOARD, mech_max_deg=95)     # the mechanical stop well clear of 90
    assert compute_limits({"level": 4}, room).cap_mdeg == spec.FULL_INVERSION_ABOVE_MDEG
    assert compute_limits({"level": 4, "full_inversion": True}, room).cap_mdeg == \
        spec.HARD_CAP_MDEG


def test_the_schema_is_not_kept_in_memory_after_a_check():
    # On the board its code would otherwise stay on the heap while the table runs.
    profiles.validate({"level": 2})
    assert "profile_schema" not in sys.modules
    with pytest.raises(ProfileError):
        profiles.validate({"level": 9})
    assert "profile_schema" not in sys.modules


def test_ranges_come_from_the_spec():
    top = spec.HEARTBEAT_MAX_MS / 1000
    profiles.validate({"heartbeat_timeout_s": top})
    with pytest.raises(ProfileError):
        profiles.validate({"heartbeat_timeout_s": top + 0.01})
    profiles.validate({"dwell_s": spec.DWELL_MAX_MS // 1000})
    profiles.validate({"contraindications": list(CONTRAINDICATIONS)})


def test_override_of_none_means_no_override():
    clean = profiles.validate({"contraindications": ["pregnancy"], "override_cap_deg": None})
    assert "override_cap_deg" not in clean
    assert compute_limits(clean, BOARD).cap_mdeg == 0


def test_a_refused_save_changes_nothing():
    fs = FlashFs(0)
    s = Storage(fs)
    good = {"name": "ann", "level": 2, "hold_s": 60}
    profiles.save(s, good)
    image = fs.image()
    bad = {"name": "ann", "level": 3, "hold_s": 60, "rate_deg_s": 60}
    kept = copy.deepcopy(bad)
    with pytest.raises(ProfileError):
        profiles.save(s, bad)
    assert bad == kept                       # the caller's dict is untouched
    assert fs.image() == image               # nothing reached the flash
    assert profiles.load(s) == (good, "")


def _stored(payload):
    fs = FlashFs(0)
    Storage(fs).write(profiles.RECORD, payload)
    return Storage(fs)


def test_missing_profile_gives_beginner_and_says_so():
    profile, note = profiles.load(Storage(FlashFs(0)))
    assert profile == profiles.beginner()
    assert "no stored profile" in note


def test_corrupt_profile_gives_beginner_and_says_so():
    fs = FlashFs(0)
    s = Storage(fs)
    profiles.save(s, {"level": 3, "full_inversion": False, "cap_deg": 60})
    fs.corrupt(profiles.RECORD)
    profile, note = profiles.load(s)
    assert profile == profiles.beginner()
    assert "corrupt" in note


@pytest.mark.parametrize("payload,field", [
    (b"not json", "profile"),
    (b"[1, 2]", "profile"),
    (b'{"level": 9}', "level"),
    (b'{"level": 3, "boost": 1}', "boost"),
    (b"\xff\xfe", "profile"),
])
def test_invalid_stored_profile_gives_beginner_and_names_the_field(payload, field):
    profile, note = profiles.load(_stored(payload))
    assert profile == profiles.beginner()
    assert "invalid" in note and field in note


def test_beginner_is_the_spec_beginner():
    lim = compute_limits(profiles.beginner(), BOARD)
    assert lim.cap_mdeg == spec.LEVEL_CAPS_MDEG[0]
    assert lim.session_ms == spec.BEGINNER_SESSION_MS
    assert lim.hold_ms == [spec.BEGINNER_HOLD_MS] * 3
    assert lim.rate_mdeg_s == spec.BEGINNER_RATE_MDEG_S


_numbers = st.floats(allow_nan=False, allow_infinity=False, min_value=-1000, max_value=1000)
_values = st.one_of(st.none(), st.booleans(), st.integers(-10, 1000), _numbers, st.text(max_size=5),
                    st.lists(st.sampled_from(CONTRAINDICATIONS + ("flu",)), max_size=3))


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(profile_schema.KEYS + ("extra",)), _values, max_size=6))
def test_any_profile_is_either_refused_or_stored_and_never_widens_a_ceiling(raw):
    fs = FlashFs(0)
    s = Storage(fs)
    try:
        clean = profiles.save(s, raw)
    except ProfileError as exc:
        field = str(exc).split(":")[0]
        assert field in raw or field == "profile"
        assert fs.image() == {}
        return
    assert profiles.load(s) == (clean, "")
    assert json.loads(json.dumps(clean)) == clean
    lim = compute_limits(clean, BOARD)
    assert lim.cap_mdeg <= spec.HARD_CAP_MDEG
    assert max(lim.hold_ms) <= max(spec.HOLD_CEILINGS_MS)
    assert lim.session_ms <= spec.SESSION_INVERTED_CEILING_MS
    assert lim.rate_mdeg_s <= spec.RATE_CEILING_MDEG_S
    if not clean.get("full_inversion"):
        assert lim.cap_mdeg <= spec.FULL_INVERSION_ABOVE_MDEG
