"""Invalid scenarios: `python -m simulator run` exits 2 with one line on
stderr that names the field; valid ones (every file in scenarios/) load."""
import glob
import json
import os

import pytest

from simhelp import REPO, SCENARIOS, cli

from simulator.scenario import ScenarioError, load_scenario, parse_scenario

BASE = {
    "name": "v", "board": "esp32-devkitc-actuator", "seed": 7, "duration_s": 60,
    "person": {"mass_kg": 80, "height_cm": 178},
    "profile": {"level": 3, "age": 45, "full_inversion": False, "contraindications": [],
                "preferred_angle": 60},
    "heartbeat": {"source": "host", "period_s": 0.25},
    "events": [
        {"t": 1.0, "do": "program", "name": "decompression"},
        {"t": 1.5, "do": "press", "button": "start"},
        {"t": 40.0, "do": "press", "button": "stop", "hold_s": 0.2},
        {"t": 45.0, "do": "heartbeat", "state": "off"},
        {"t": 50.0, "do": "fault", "kind": "imu_bias", "value": 6},
        {"t": 55.0, "do": "clear", "kind": "imu_bias"},
        {"t": 58.0, "do": "power_cycle", "off_s": 2.0},
    ],
}


def _with(path, value):
    """BASE with the value at path ("events.2.button") replaced; DELETE removes it."""
    data = json.loads(json.dumps(BASE))
    keys = path.split(".")
    node = data
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node[k]
    last = keys[-1]
    if isinstance(node, list):
        last = int(last)
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return data


DELETE = object()

CASES = [
    # (what, scenario dict, start of the message after the file name)
    ("unknown top-level key", _with("speed", 3), "speed: unknown key"),
    ("unknown person key", _with("person.weight", 80), "person.weight: unknown key"),
    ("unknown profile key", _with("profile.cap", 40), "profile.cap: unknown key"),
    ("unknown event key", _with("events.2.duration", 1),
     "events[2].duration: unknown key for a press event"),
    ("fault parameter of another kind", _with("events.4.torque_nm", 3),
     "events[4].torque_nm: unknown key for a fault event"),
    ("number as a string", _with("duration_s", "60"),
     "duration_s: expected a number, got string"),
    ("boolean as a number", _with("person.mass_kg", True),
     "person.mass_kg: expected a number, got boolean"),
    ("fractional seed", _with("seed", 1.5), "seed: expected an integer, got 1.5"),
    ("profile flag not a boolean", _with("profile.full_inversion", "yes"),
     "profile.full_inversion: expected true or false, got string"),
    ("events not a list", _with("events", {}), "events: expected a list, got object"),
    ("unknown board", _with("board", "esp32-nope"), 'board: unknown board "esp32-nope"'),
    ("unknown do", _with("events.1.do", "push"), 'events[1].do: unknown event "push"'),
    ("unknown button", _with("events.2.button", "sotp"),
     'events[2].button: unknown button "sotp" (expected one of stop, start, up, down, '
     'attendant)'),
    ("unknown fault kind", _with("events.4.kind", "imu_melt"),
     'events[4].kind: unknown fault kind "imu_melt"'),
    ("unknown contraindication", _with("profile.contraindications", ["migraine"]),
     'profile.contraindications[0]: unknown contraindication "migraine"'),
    ("unknown heartbeat source", _with("heartbeat.source", "phone"),
     'heartbeat.source: unknown heartbeat source "phone"'),
    ("events out of order", _with("events.3.t", 30.0),
     "events[3].t: 30 is before the previous event's t 40"),
    ("event after the end", _with("events.6.t", 61), "events[6].t: 61 is out of range"),
    ("event before the start", _with("events.0.t", -1), "events[0].t: -1 is out of range"),
    ("negative hold_s", _with("events.2.hold_s", -0.2), "events[2].hold_s: -0.2 is out of range"),
    ("negative off_s", _with("events.6.off_s", -2), "events[6].off_s: -2 is out of range"),
    ("missing name", _with("name", DELETE), "name: missing"),
    ("missing duration", _with("duration_s", DELETE), "duration_s: missing"),
    ("zero duration", _with("duration_s", 0), "duration_s: 0 is out of range"),
    ("event without its key", _with("events.2.button", DELETE),
     "events[2].button: missing (a press event needs t, button)"),
    ("event without t", _with("events.0.t", DELETE), "events[0].t: missing"),
    ("heartbeat state", _with("events.3.state", "maybe"),
     'events[3].state: unknown heartbeat state "maybe"'),
    ("top level not an object", [1, 2], "scenario: expected an object, got list"),
]


@pytest.mark.parametrize("what,data,message", CASES, ids=[c[0] for c in CASES])
def test_invalid_scenario_exits_2_with_one_line(tmp_path, what, data, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    out = cli("run", str(path), "--summary", str(tmp_path / "s.json"))
    assert out.returncode == 2
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: %s: %s" % (path, message)), lines[0]
    assert "Traceback" not in out.stderr and out.stdout == ""
    assert not (tmp_path / "s.json").exists()


@pytest.mark.parametrize("text,message", [
    ('{"name": "x",', "not valid JSON: line 1 column 14"),
    ('{"name": "x", "duration_s": 5, "name": "y"}', 'duplicate key "name"'),
    (b"\xff\xfe", "not UTF-8 text"),
    (None, "cannot read scenario: No such file or directory"),
])
def test_unreadable_scenario_exits_2(tmp_path, text, message):
    path = tmp_path / "bad.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text)
    out = cli("run", str(path))
    assert out.returncode == 2
    assert out.stderr.splitlines() == [out.stderr.strip()]
    assert out.stderr.startswith("error: %s: %s" % (path, message)), out.stderr


def test_bad_command_line_exits_2_with_one_line():
    out = cli("run")
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 1
    assert out.stderr.startswith("error: ")


def test_an_invalid_board_file_is_reported_by_its_field(tmp_path):
    boards = tmp_path / "boards"
    boards.mkdir()
    with open(os.path.join(REPO, "boards", "esp32-devkitc-actuator.json")) as f:
        board = json.load(f)
    board["hbridge"]["pwm"] = 34       # input-only pin
    (boards / "broken.json").write_text(json.dumps(board))
    with pytest.raises(ScenarioError) as err:
        parse_scenario({"name": "x", "duration_s": 1, "board": "broken"}, boards_dir=str(boards))
    assert str(err.value).startswith('board: board "broken" is invalid: ')
    assert "hbridge.pwm" in str(err.value)


def test_a_button_the_board_lacks_is_refused(tmp_path):
    boards = tmp_path / "boards"
    boards.mkdir()
    with open(os.path.join(REPO, "boards", "esp32s3-brake.json")) as f:
        board = json.load(f)
    board["buttons"]["attendant"] = None
    board["name"] = "no-grip"
    (boards / "no-grip.json").write_text(json.dumps(board))
    ev = [{"t": 0, "do": "press", "button": "attendant"}]
    with pytest.raises(ScenarioError) as err:
        parse_scenario({"name": "x", "duration_s": 1, "board": "no-grip", "events": ev},
                       boards_dir=str(boards))
    assert str(err.value) == 'events[0].button: board "no-grip" has no attendant button'


def test_the_contract_example_is_valid():
    sc = parse_scenario(BASE)
    assert sc.events[1]["hold_s"] == 0.1 and sc.events[2]["hold_s"] == 0.2
    assert sc.events[4]["params"] == {"value": 6}


def test_defaults():
    sc = parse_scenario({"name": "d", "duration_s": 10})
    assert sc.board_name == "esp32-devkitc-actuator" and sc.seed == 0
    assert sc.person == {"mass_kg": 80, "height_cm": 178}
    assert (sc.heartbeat_source, sc.heartbeat_period_s) == ("host", 0.25)
    assert sc.profile is None and sc.events == [] and sc.description == ""


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(SCENARIOS, "*.json"))),
                         ids=os.path.basename)
def test_every_shipped_scenario_is_valid_and_described(path):
    sc = load_scenario(path)
    assert sc.name == os.path.basename(path)[:-5]
    assert len(sc.description) > 40
