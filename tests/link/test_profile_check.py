"""What PROFILE SET accepts: every key limits.py reads, in range, nothing
else (firmware/profile_schema.py, the one schema the link, the board's
flash, the simulator and invertctl share)."""
import json

import linkrig  # noqa: F401
from profile_schema import check
from safety.limits import compute_limits


def check_profile(p):
    """(clean, "") or (None, "field: why"), as the link's check answered."""
    clean, bad = check(p)
    return (clean, "") if clean is not None else (None, "%s: %s" % (bad[0], bad[2]))


def test_accepts_every_documented_key():
    p = {"level": 4, "age": 50, "mass_kg": 82.5, "full_inversion": True,
         "contraindications": ["glaucoma"], "override_cap_deg": 10, "cap_deg": 80,
         "hold_s": 120, "session_s": 600, "rate_deg_s": 4.5, "dwell_s": 0,
         "heartbeat_timeout_s": 0.2, "preferred_angle": 40}
    out, why = check_profile(p)
    assert why == "" and out == p
    compute_limits(out, {"home_deg": -70, "mech_max_deg": 92})


def test_refusals():
    cases = [[], "x", {"levels": 1}, {"level": 5}, {"level": -1}, {"level": 2.0},
             {"level": True}, {"age": 200}, {"mass_kg": 0}, {"mass_kg": "80"},
             {"full_inversion": "yes"}, {"full_inversion": 1},
             {"contraindications": "vertigo"}, {"contraindications": ["flu"]},
             {"contraindications": [1]}, {"cap_deg": 91}, {"cap_deg": -1},
             {"hold_s": 301}, {"session_s": 601}, {"rate_deg_s": 0.4}, {"rate_deg_s": 7},
             {"dwell_s": 181}, {"heartbeat_timeout_s": 0.1}, {"heartbeat_timeout_s": 6},
             {"preferred_angle": 95}, json.loads('{"cap_deg": NaN}'),
             json.loads('{"cap_deg": Infinity}'), {"cap_deg": None}]
    for p in cases:
        out, why = check_profile(p)
        assert out is None and why, p


def test_duplicate_contraindications_are_refused_not_collapsed():
    # Nothing is changed silently: a repeated flag is a typo to report.
    out, why = check_profile({"contraindications": ["vertigo", "vertigo", "glaucoma"]})
    assert out is None and why.startswith("contraindications:") and "twice" in why


def test_level_4_without_full_inversion_is_a_profile_capped_at_60():
    out, why = check_profile({"level": 4})
    assert why == "" and out == {"level": 4}
    board = {"home_deg": -70, "mech_max_deg": 92}
    assert compute_limits(out, board).cap_mdeg == 60000
    assert compute_limits(dict(out, full_inversion=True), board).cap_mdeg == 90000
