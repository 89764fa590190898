"""A scenario's profile is checked by the firmware's own schema
(firmware/profile_schema.py): what the board stores, the scenario accepts,
and what the board refuses, the scenario refuses by field. Level 4 without
full_inversion is such a profile: the table never goes past 60 (SPEC R1/R3)."""
import csv
import json

from simhelp import cli, scenario

from simulator.scenario import ScenarioError

CAP_TOLERANCE_DEG = 1.0


def level_4_scenario(full_inversion):
    profile = {"level": 4, "age": 40, "preferred_angle": 60}
    if full_inversion is not None:
        profile["full_inversion"] = full_inversion
    return {
        "name": "level-4", "board": "esp32-devkitc-actuator", "seed": 13, "duration_s": 260,
        "person": {"mass_kg": 80, "height_cm": 178}, "profile": profile,
        "heartbeat": {"source": "host", "period_s": 0.25},
        "events": [{"t": 1.0, "do": "program", "name": "full-inversion"},
                   {"t": 1.5, "do": "press", "button": "start"},
                   {"t": 3.0, "do": "press", "button": "up", "hold_s": 120.0},
                   {"t": 125.0, "do": "press", "button": "down", "hold_s": 120.0}],
    }


def run_file(tmp_path, data):
    path = tmp_path / "sc.json"
    path.write_text(json.dumps(data))
    out = cli("run", str(path), "--summary", str(tmp_path / "s.json"),
              "--trace", str(tmp_path / "t.csv"))
    return out


def test_level_4_without_full_inversion_runs_and_stays_under_60(tmp_path):
    out = run_file(tmp_path, level_4_scenario(None))
    assert out.returncode == 0, out.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    with open(tmp_path / "t.csv") as f:
        rows = list(csv.DictReader(f))
    caps = {float(r["cap_deg"]) for r in rows}
    assert max(caps) == 60.0
    # The jog held UP for 120 s (at 1.2 deg/s) reached the cap and the true angle kept to it.
    assert 55.0 <= summary["max_theta_deg"] <= 60.0 + CAP_TOLERANCE_DEG
    assert "full inversion is locked" in " ".join(r["event"] for r in rows)


def test_level_4_with_full_inversion_goes_past_60(tmp_path):
    sc = scenario(**level_4_scenario(True))
    assert sc.profile == {"level": 4, "age": 40, "preferred_angle": 60, "full_inversion": True}
    out = run_file(tmp_path, level_4_scenario(True))
    assert out.returncode == 0, out.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    with open(tmp_path / "t.csv") as f:
        cap_deg = max(float(r["cap_deg"]) for r in csv.DictReader(f))
    assert cap_deg > 60.0
    assert 65.0 <= summary["max_theta_deg"] <= cap_deg + CAP_TOLERANCE_DEG


def test_the_scenario_refuses_what_the_board_refuses_naming_the_field(tmp_path):
    for profile, message in (
            ({"level": 4, "hold_s": 0}, "profile.hold_s: 0 is outside (0, 300]"),
            ({"level": 5}, "profile.level: 5 is outside 0-4"),
            ({"age": 40.5}, "profile.age: expected an integer, got 40.5"),
            ({"contraindications": ["vertigo", "vertigo"]},
             'profile.contraindications[1]: "vertigo" listed twice'),
            ({"name": "a,b"}, "profile.name: control characters and commas"),
            ([], "profile: expected an object, got list")):
        data = dict(level_4_scenario(None), profile=profile)
        out = run_file(tmp_path, data)
        assert out.returncode == 2, (profile, out.stderr)
        assert out.stderr.startswith("error: %s: %s" % (tmp_path / "sc.json", message)), \
            out.stderr
        try:
            scenario(profile=profile)
            raise AssertionError("accepted %r" % (profile,))
        except ScenarioError as exc:
            assert str(exc).startswith(message)


def test_a_null_override_is_no_override():
    sc = scenario(profile={"contraindications": ["vertigo"], "override_cap_deg": None})
    assert sc.profile == {"contraindications": ["vertigo"]}
