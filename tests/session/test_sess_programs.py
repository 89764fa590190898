"""Custom program files: clear errors naming the step and field; targets
clipped to the cap and holds to the R2 ceilings, like the built-ins."""
import json

import pytest
from hypothesis import given, settings, strategies as st

from simulator.flash import FlashFs
from session.storage import Storage
from session import programs
from session.programs import ProgramError
from safety.limits import compute_limits, band_of
from safety import spec

BOARD = {"home_deg": -70, "mech_max_deg": 90}
LEVEL3 = compute_limits({"level": 3}, BOARD)
BEGINNER = compute_limits({"level": 0}, BOARD)


def test_builtins_still_work():
    for name in programs.NAMES:
        steps = programs.builtin(name, BEGINNER)
        assert steps and all(t <= BEGINNER.cap_mdeg for t, _, _ in steps)
    assert programs.builtin("nope", BEGINNER) is None
    assert programs.clip_steps([(90000, 999999, "x")], LEVEL3) == [(60000, 180000, "x")]


def test_a_valid_custom_program_is_clipped_and_says_so():
    text = json.dumps([{"target_deg": 20, "hold_s": 30, "cue": "breathe"},
                       {"target_deg": 75, "hold_s": 400},
                       {"target_deg": 0, "hold_s": 500, "cue": "rest"}])
    steps, notes = programs.parse(text, LEVEL3)
    assert steps == [(20000, 30000, "breathe"), (60000, 180000, ""), (0, 500000, "rest")]
    assert notes == ["step 2: target clipped to 60000 mdeg (cap)",
                     "step 2: hold clipped to 180000 ms (R2)"]
    beginner, _ = programs.parse(text, BEGINNER)
    assert beginner[1] == (30000, BEGINNER.hold_limit_ms(0), "")


BAD = [
    ("{}", "program:"),
    ("not json", "program:"),
    ("[]", "program:"),
    (json.dumps([{"target_deg": 20}] * 33), "program:"),
    (json.dumps([5]), "step 1:"),
    (json.dumps([{"target_deg": 20, "hold_s": 5}, {"hold_s": 5}]), "step 2: target_deg"),
    (json.dumps([{"target_deg": 20}]), "step 1: hold_s"),
    (json.dumps([{"target_deg": "20", "hold_s": 5}]), "step 1: target_deg"),
    (json.dumps([{"target_deg": 120, "hold_s": 5}]), "step 1: target_deg"),
    (json.dumps([{"target_deg": True, "hold_s": 5}]), "step 1: target_deg"),
    (json.dumps([{"target_deg": 20, "hold_s": -1}]), "step 1: hold_s"),
    (json.dumps([{"target_deg": 20, "hold_s": 601}]), "step 1: hold_s"),
    (json.dumps([{"target_deg": 20, "hold_s": 5, "cue": 3}]), "step 1: cue"),
    (json.dumps([{"target_deg": 20, "hold_s": 5, "cue": "x" * 49}]), "step 1: cue"),
    (json.dumps([{"target_deg": 20, "hold_s": 5, "cue": "a\nb"}]), "step 1: cue"),
    (json.dumps([{"target_deg": 20, "hold_s": 5, "speed": 9}]), "step 1: unknown field 'speed'"),
]


@pytest.mark.parametrize("text,start", BAD, ids=[b[1] for b in BAD])
def test_invalid_programs_name_the_step_and_field(text, start):
    with pytest.raises(ProgramError) as info:
        programs.parse(text, LEVEL3)
    assert str(info.value).startswith(start)


def test_custom_programs_in_storage():
    s = Storage(FlashFs(0))
    steps = [{"target_deg": 40, "hold_s": 60, "cue": "hold"}]
    programs.save_custom(s, "my-stretch", steps)
    assert programs.find("my-stretch", LEVEL3, s) == ([(40000, 60000, "hold")], "")
    assert programs.find("my-stretch", BEGINNER, s)[0] == [(30000, 60000, "hold")]
    assert programs.find("other", LEVEL3, s) == (None, "program other: missing")
    assert programs.find("beginner", LEVEL3, s)[0] == programs.builtin("beginner", LEVEL3)
    for name, msg in (("beginner", "built-in"), ("Bad Name", "only"), ("", "name")):
        with pytest.raises(ProgramError) as info:
            programs.save_custom(s, name, steps)
        assert msg in str(info.value)
    with pytest.raises(ProgramError):
        programs.save_custom(s, "broken", [{"target_deg": 40}])
    assert s.read("prog.broken") == (None, "missing")


_step = st.fixed_dictionaries({"target_deg": st.floats(-90, 90), "hold_s": st.floats(0, 600)},
                              optional={"cue": st.text(alphabet="abc xyz", max_size=48)})


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(_step, min_size=1, max_size=32), level=st.integers(0, 4),
       full=st.booleans())
def test_every_custom_step_is_within_cap_and_hold_ceilings(steps, level, full):
    lim = compute_limits({"level": level, "full_inversion": full}, BOARD)
    clipped, _ = programs.custom(steps, lim)
    assert len(clipped) == len(steps)
    for target, hold, _ in clipped:
        assert target <= lim.cap_mdeg <= spec.HARD_CAP_MDEG
        if target > 0:
            assert hold <= lim.hold_limit_ms(band_of(target))
