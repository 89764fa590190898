"""Scenario files (CONTRACT.md, "Scenario file"): load, check every field, fill defaults.

Usage::

    sc = load_scenario("scenarios/stop-at-60.json")     # or ScenarioError
    sc = parse_scenario(dict_from_json, source="x.json")
    sc.name, sc.board_name, sc.board (validated board dict), sc.seed,
    sc.duration_s, sc.person, sc.profile (dict or None), sc.heartbeat_source,
    sc.heartbeat_period_s, sc.events (list of dicts, defaults filled in)

A scenario is written by hand, so a typo must stop it with a message naming
the field ("events[3].button: unknown button ...") rather than run something
else: unknown keys are refused everywhere, types are exact (true is not a
number), events are in time order inside [0, duration_s].

Defaults: board esp32-devkitc-actuator, seed 0, person 80 kg / 178 cm,
heartbeat from the host every 0.25 s, no events, profile omitted (None: the
firmware's beginner defaults).

Additions to the contract (all optional):
- top level `description`: free text saying what the scenario shows;
- every event: `note`: free text for the reader (the simulator ignores it);
- press `hold_s`: null holds the button until a `release` event;
- heartbeat `source` (`host`/`pendant`): switch the heartbeat source; `on`
  with the scenario's source `none` and no `source` given uses `host`;
- fault parameters beyond the contract's `value` (imu_bias) and `torque_nm`
  (pinch): `rate` (imu_bus_error, imu_spike, link_noise: fraction of reads or
  bytes hit), `rail` (position_sensor_open: `high`/`low`), `duty`
  (actuator_runaway, -1..1, + = head-down), `torque_nm` (brake_slip: what the
  slipping brake still holds);
- command `via`: `call` (default: each line handed to the firmware's host-line
  handler, the reply is recorded in the trace) or `uart` (the bytes as they
  are, through the emulated host UART, framing included).
"""
import json
import math
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOARDS_DIR = os.path.join(REPO, "boards")
FIRMWARE_DIR = os.path.join(REPO, "firmware")

DEFAULT_BOARD = "esp32-devkitc-actuator"
DEFAULT_SEED = 0
DEFAULT_PERSON = {"mass_kg": 80, "height_cm": 178}
DEFAULT_HEARTBEAT_SOURCE = "host"
DEFAULT_HEARTBEAT_PERIOD_S = 0.25
DEFAULT_HOLD_S = 0.1
# Every tick is one trace row held in memory until the end: 2 h is ~720k rows.
MAX_DURATION_S = 7200
PERSON_MASS_KG = (20, 300)
PERSON_HEIGHT_CM = (100, 230)
HEARTBEAT_PERIOD_S = (0.01, 60)

BUTTONS = ("stop", "start", "up", "down", "attendant")
HEARTBEAT_SOURCES = ("host", "pendant", "none")
# fault kind -> optional parameters and their kind of value
FAULT_PARAMS = {
    "imu_bus_error": {"rate": "fraction"},
    "imu_missing": {},
    "imu_freeze": {},
    "imu_spike": {"rate": "fraction"},
    "imu_bias": {"value": "number"},
    "position_sensor_open": {"rail": ("high", "low")},
    "actuator_stall": {},
    "actuator_runaway": {"duty": "duty"},
    "brake_slip": {"torque_nm": "nonneg"},
    "pinch": {"torque_nm": "nonneg"},
    "link_noise": {"rate": "fraction"},
}
FAULT_KINDS = tuple(FAULT_PARAMS)

TOP_KEYS = ("name", "description", "board", "seed", "duration_s", "person", "profile",
            "heartbeat", "events")
PERSON_KEYS = ("mass_kg", "height_cm")
HEARTBEAT_KEYS = ("source", "period_s")
# do -> (required keys, optional keys), besides t, do and note
EVENT_KEYS = {
    "program": (("name",), ()),
    "press": (("button",), ("hold_s",)),
    "release": (("button",), ()),
    "heartbeat": (("state",), ("source",)),
    "fault": (("kind",), ()),          # plus the kind's parameters
    "clear": (("kind",), ()),
    "power_cycle": (("off_s",), ()),
    "command": (("text",), ("via",)),
    "arms": (("position",), ()),
}
COMMAND_VIA = ("call", "uart")


class ScenarioError(ValueError):
    """An invalid scenario; str() is one line naming the field."""


class Scenario:
    def __init__(self, name, description, board_name, board, seed, duration_s, person,
                 profile, heartbeat_source, heartbeat_period_s, events, source=""):
        self.name = name
        self.description = description
        self.board_name = board_name
        self.board = board
        self.seed = seed
        self.duration_s = duration_s
        self.person = person
        self.profile = profile
        self.heartbeat_source = heartbeat_source
        self.heartbeat_period_s = heartbeat_period_s
        self.events = events
        self.source = source


def _kind(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _fail(path, message):
    raise ScenarioError("%s: %s" % (path, message))


def _join(path, key):
    return key if not path else "%s.%s" % (path, key)


def _choices(values):
    return ", ".join(values)


def _object(path, value, allowed):
    if not isinstance(value, dict):
        _fail(path or "scenario", "expected an object, got %s" % _kind(value))
    for key in value:
        if key not in allowed:
            _fail(_join(path, key), "unknown key (expected one of %s)" % _choices(allowed))
    return value


def _number(path, value, low=None, high=None, low_open=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(path, "expected a number, got %s" % _kind(value))
    if not math.isfinite(value):
        _fail(path, "expected a finite number, got %r" % (value,))
    if low is not None and (value < low or (low_open and value == low)):
        _fail(path, "%s is out of range (must be %s %s)"
              % (_num(value), ">" if low_open else ">=", _num(low)))
    if high is not None and value > high:
        _fail(path, "%s is out of range (must be <= %s)" % (_num(value), _num(high)))
    return value


def _num(value):
    return ("%g" % value) if isinstance(value, float) else str(value)


def _integer(path, value, low=None, high=None):
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(path, "expected an integer, got %s" % (
            _kind(value) if not isinstance(value, float) else _num(value)))
    return _number(path, value, low, high)


def _string(path, value, nonempty=True):
    if not isinstance(value, str):
        _fail(path, "expected a string, got %s" % _kind(value))
    if nonempty and not value.strip():
        _fail(path, "must not be empty")
    return value


def _choice(path, value, choices, what):
    if not isinstance(value, str):
        _fail(path, "expected a string, got %s" % _kind(value))
    if value not in choices:
        _fail(path, 'unknown %s "%s" (expected one of %s)' % (what, value, _choices(choices)))
    return value


def board_path(name, boards_dir=BOARDS_DIR):
    return os.path.join(boards_dir, name + ".json")


def load_board_checked(name, path="board", boards_dir=BOARDS_DIR):
    """The board dict from boards/NAME.json, validated by the firmware's own
    boardcfg (the check the board runs at boot); ScenarioError otherwise."""
    _string(path, name)
    if os.sep in name or "/" in name or name.startswith("."):
        _fail(path, 'board "%s": expected a file name from boards/, without a folder' % name)
    file = board_path(name, boards_dir)
    if not os.path.isfile(file):
        known = sorted(f[:-5] for f in os.listdir(boards_dir) if f.endswith(".json"))
        _fail(path, 'unknown board "%s" (expected one of %s)' % (name, _choices(known)))
    if FIRMWARE_DIR not in sys.path:
        sys.path.insert(0, FIRMWARE_DIR)
    import boardcfg
    try:
        return boardcfg.load_board(file)
    except (boardcfg.BoardError, ValueError, OSError) as exc:
        _fail(path, 'board "%s" is invalid: %s' % (name, str(exc).splitlines()[0]))


def _person(value):
    if value is None:
        return dict(DEFAULT_PERSON)
    _object("person", value, PERSON_KEYS)
    out = dict(DEFAULT_PERSON)
    if "mass_kg" in value:
        out["mass_kg"] = _number("person.mass_kg", value["mass_kg"], *PERSON_MASS_KG)
    if "height_cm" in value:
        out["height_cm"] = _number("person.height_cm", value["height_cm"], *PERSON_HEIGHT_CM)
    return out


def _profile(value):
    """The profile as the board stores it, checked by the firmware's own
    schema (firmware/profile_schema.py, which PROFILE SET and the board's
    flash also use): what the board would refuse is refused here."""
    if value is None:
        return None
    if FIRMWARE_DIR not in sys.path:
        sys.path.insert(0, FIRMWARE_DIR)
    import profile_schema
    clean, bad = profile_schema.check(value)
    if clean is None:
        key, item, message = bad
        if key == "profile":
            _fail("profile", message)
        _fail("profile.%s%s" % (key, "[%d]" % item if item >= 0 else ""), message)
    return clean


def _heartbeat(value):
    if value is None:
        return DEFAULT_HEARTBEAT_SOURCE, DEFAULT_HEARTBEAT_PERIOD_S
    _object("heartbeat", value, HEARTBEAT_KEYS)
    source = DEFAULT_HEARTBEAT_SOURCE
    period = DEFAULT_HEARTBEAT_PERIOD_S
    if "source" in value:
        source = _choice("heartbeat.source", value["source"], HEARTBEAT_SOURCES,
                         "heartbeat source")
    if "period_s" in value:
        period = _number("heartbeat.period_s", value["period_s"], *HEARTBEAT_PERIOD_S)
    return source, period


def _fault_params(path, ev, kind):
    params = FAULT_PARAMS[kind]
    out = {}
    for key, want in params.items():
        if key not in ev:
            continue
        p = _join(path, key)
        v = ev[key]
        if want == "fraction":
            out[key] = _number(p, v, 0, 1)
        elif want == "duty":
            out[key] = _number(p, v, -1, 1)
        elif want == "nonneg":
            out[key] = _number(p, v, 0)
        elif want == "number":
            out[key] = _number(p, v)
        else:
            out[key] = _choice(p, v, want, key)
    return out


def _event(i, ev, board, duration_s, prev_t):
    path = "events[%d]" % i
    if not isinstance(ev, dict):
        _fail(path, "expected an object, got %s" % _kind(ev))
    if "do" not in ev:
        _fail(_join(path, "do"), "missing (expected one of %s)" % _choices(EVENT_KEYS))
    do = _choice(_join(path, "do"), ev["do"], tuple(EVENT_KEYS), "event")
    required, optional = EVENT_KEYS[do]
    allowed = ("t", "do", "note") + required + optional
    if do in ("fault", "clear") and "kind" in ev:
        # the kind first: its parameters are the keys a fault event may have
        _choice(_join(path, "kind"), ev["kind"], FAULT_KINDS, "fault kind")
        if do == "fault":
            allowed += tuple(FAULT_PARAMS[ev["kind"]])
    for key in ("t",) + required:
        if key not in ev:
            _fail(_join(path, key), "missing (a %s event needs %s)"
                  % (do, _choices(("t",) + required)))
    for key in ev:
        if key not in allowed:
            _fail(_join(path, key), "unknown key for a %s event (expected one of %s)"
                  % (do, _choices(allowed)))
    t = _number(_join(path, "t"), ev["t"], 0, duration_s)
    if t < prev_t:
        _fail(_join(path, "t"), "%s is before the previous event's t %s (events must be in"
              " time order)" % (_num(t), _num(prev_t)))
    if "note" in ev:
        _string(_join(path, "note"), ev["note"], nonempty=False)
    out = {"t": t, "do": do}
    if do == "program":
        out["name"] = _string(_join(path, "name"), ev["name"])
    elif do in ("press", "release"):
        button = _choice(_join(path, "button"), ev["button"], BUTTONS, "button")
        if board["buttons"].get(button) is None:
            _fail(_join(path, "button"), 'board "%s" has no %s button'
                  % (board["name"], button))
        out["button"] = button
        if do == "press":
            hold = ev.get("hold_s", DEFAULT_HOLD_S)
            if hold is not None:
                hold = _number(_join(path, "hold_s"), hold, 0)
            out["hold_s"] = hold
    elif do == "heartbeat":
        out["state"] = _choice(_join(path, "state"), ev["state"], ("on", "off"),
                               "heartbeat state")
        if "source" in ev:
            out["source"] = _choice(_join(path, "source"), ev["source"], ("host", "pendant"),
                                    "heartbeat source")
    elif do in ("fault", "clear"):
        kind = _choice(_join(path, "kind"), ev["kind"], FAULT_KINDS, "fault kind")
        out["kind"] = kind
        if do == "fault":
            out["params"] = _fault_params(path, ev, kind)
    elif do == "power_cycle":
        out["off_s"] = _number(_join(path, "off_s"), ev["off_s"], 0, MAX_DURATION_S)
    elif do == "command":
        out["text"] = _string(_join(path, "text"), ev["text"], nonempty=False)
        out["via"] = _choice(_join(path, "via"), ev.get("via", "call"), COMMAND_VIA,
                             "command route")
    elif do == "arms":
        out["position"] = _choice(_join(path, "position"), ev["position"], ("up", "down"),
                                  "arms position")
    return out


def parse_event(ev, board, t_s=0.0):
    """One event (as in a scenario's events list, its "t" optional) checked and
    with defaults filled, for a driver that decides its inputs as it goes."""
    ev = dict(ev)
    ev.setdefault("t", t_s)
    return _event(0, ev, board, MAX_DURATION_S, 0)


def parse_scenario(data, source="", boards_dir=BOARDS_DIR):
    """Check a scenario (the decoded JSON) and return a Scenario with defaults filled."""
    _object("", data, TOP_KEYS)
    for key in ("name", "duration_s"):
        if key not in data:
            _fail(key, "missing (required)")
    name = _string("name", data["name"])
    description = ""
    if "description" in data:
        description = _string("description", data["description"], nonempty=False)
    board_name = data.get("board", DEFAULT_BOARD)
    board = load_board_checked(board_name, "board", boards_dir)
    seed = _integer("seed", data.get("seed", DEFAULT_SEED), 0, 2 ** 32 - 1)
    duration_s = _number("duration_s", data["duration_s"], 0, MAX_DURATION_S, low_open=True)
    person = _person(data.get("person"))
    profile = _profile(data.get("profile"))
    hb_source, hb_period = _heartbeat(data.get("heartbeat"))
    raw_events = data.get("events", [])
    if not isinstance(raw_events, list):
        _fail("events", "expected a list, got %s" % _kind(raw_events))
    events = []
    prev_t = 0
    for i, ev in enumerate(raw_events):
        out = _event(i, ev, board, duration_s, prev_t)
        prev_t = out["t"]
        events.append(out)
    return Scenario(name, description, board_name, board, seed, duration_s, person, profile,
                    hb_source, hb_period, events, source)


def _unique_keys(pairs):
    # json would keep the last of two equal keys without a word
    out = {}
    for key, value in pairs:
        if key in out:
            raise ScenarioError('duplicate key "%s" (a key may appear once per object)' % key)
        out[key] = value
    return out


def load_scenario(path, boards_dir=BOARDS_DIR):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise ScenarioError("cannot read scenario: %s" % (exc.strerror or exc)) from None
    except UnicodeDecodeError:
        raise ScenarioError("not UTF-8 text") from None
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise ScenarioError("not valid JSON: line %d column %d: %s"
                            % (exc.lineno, exc.colno, exc.msg)) from None
    return parse_scenario(data, path, boards_dir)
