"""Board files (boards/*.json): load and check every field before use.

Usage::

    board = load_board("boards/esp32-devkitc-actuator.json")   # or BoardError
    validate_board(board_dict)                                   # same checks

A board file is the only place pin numbers and hardware parameters live, so
a wrong one must stop the firmware at boot with a message that names the
field, e.g. "board b1: hbridge.pwm: pin 34 is input-only on esp32", rather
than drive the wrong pin. Every key is required (sections a drive does not
use are present as null) and unknown keys are refused, so a typo cannot
silently fall back to a default. The dict is returned unchanged.

Rules beyond the obvious types and ranges, and why:
- pins exist on the mcu, are not wired to the SPI flash/PSRAM, are used once
  (UART0's default pins count as used when host_uart.id is 0);
- outputs not on input-only pins; the brake and H-bridge pins not on
  strapping pins, which float or pulse during boot;
- buttons and estop_sense on pins with internal pulls (a cut wire must read
  as a defined level); analog inputs on ADC1 (ADC2 is unusable with Wi-Fi);
- buttons.stop_normally_closed must be true (SPEC R5);
- imu pitch = normal x along (drivers/bedframe.py): a mirrored gyro would
  fight the accelerometer in the estimator;
- the position calibration covers the mechanical range, inside the rail
  margins that mean a broken wire; the current limit is below ADC full scale;
- watchdog_ms <= 1000 so a stalled loop cannot run the motor for long.
"""
try:
    from micropython import const
except ImportError:
    def const(x):  # type: ignore[misc]
        return x

import json

from drivers.analog import ADC_MAX_COUNTS, RAIL_MARGIN_COUNTS
from drivers.bedframe import AXES, pitch_axis
from drivers.imu_parts import PARTS


class BoardError(ValueError):
    pass


TICK_MS = 10
_MECH_MIN_LIMIT_DEG = const(-90)
_MECH_MAX_LIMIT_DEG = const(95)
_RATED_MASS_CEILING_KG = const(300)
_WATCHDOG_MIN_MS = const(100)
_WATCHDOG_MAX_MS = const(1000)
_LEVEL_OFFSET_MAX_MDEG = const(10000)
_MPU_ADDRESSES = const((0x68, 0x69))
_MPU_MAX_I2C_HZ = const(400000)


def _span(first, last):
    return tuple(range(first, last + 1))


# GPIO facts per mcu, from the Espressif datasheets.
_MCUS = {
    "esp32": {
        "exists": _span(0, 19) + _span(21, 23) + _span(25, 27) + _span(32, 39),
        "flash": _span(6, 11),
        "input_only": _span(34, 39),
        "no_pull": _span(34, 39),
        "adc1": _span(32, 39),
        "strapping": (0, 1, 2, 3, 5, 12, 14, 15),  # 1/3: UART0, active at boot
        "uart0": (1, 3),
    },
    "esp32s3": {
        "exists": _span(0, 21) + _span(26, 48),
        # 26-32 quad SPI flash/PSRAM; 33-37 octal flash/PSRAM on R8/R16 modules.
        "flash": _span(26, 37),
        "input_only": (),
        "no_pull": (),
        "adc1": _span(1, 10),
        "strapping": (0, 3, 43, 45, 46),  # 43: UART0 TX, active at boot
        "uart0": (43, 44),
    },
}

_TOP_KEYS = (
    "name", "description", "mcu", "drive", "home_deg", "mech_min_deg", "mech_max_deg",
    "rated_mass_kg", "tick_ms", "watchdog_ms", "imu", "hbridge", "position_sensor",
    "current_sense", "brake", "buttons", "estop_sense", "buzzer", "led", "host_uart",
    "actuator", "table",
)
_DRIVES = ("actuator", "brake")
_ACTUATOR_KEYS = (
    "stroke_mm", "retracted_mm", "no_load_speed_mm_s", "max_force_n", "self_locking",
    "pivot_to_frame_anchor_mm", "pivot_to_bed_anchor_mm", "anchor_angle_offset_deg",
    "rate_deg_s_full_duty",
)
_TABLE_KEYS = ("mass_kg", "com_offset_mm", "inertia_kg_m2", "friction_nm")
_TABLE_BRAKE_KEYS = ("brake_torque_nm", "arms_shift_mm")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return (isinstance(value, int) or isinstance(value, float)) and not isinstance(value, bool)


class _Check:
    def __init__(self, board):
        name = board.get("name") if isinstance(board, dict) else None
        self.label = name if isinstance(name, str) and name else "?"
        self.mcu = ""
        self.pins = {}

    def fail(self, path, message):
        raise BoardError("board %s: %s: %s" % (self.label, path or "top level", message))

    def keys(self, path, section, required, optional=()):
        if not isinstance(section, dict):
            self.fail(path, "must be an object, not %s" % _kind(section))
        for key in required:
            if key not in section:
                self.fail(_join(path, key), "missing")
        unknown = sorted(key for key in section if key not in required and key not in optional)
        if unknown:
            self.fail(_join(path, unknown[0]), "unknown key")

    def integer(self, path, value, low, high):
        if not _is_int(value):
            self.fail(path, "must be an integer, not %s" % _kind(value))
        if not low <= value <= high:
            self.fail(path, "%d is outside %d..%d" % (value, low, high))
        return value

    def number(self, path, value, low, high, low_open=False):
        if not _is_number(value):
            self.fail(path, "must be a number, not %s" % _kind(value))
        if value < low or value > high or (low_open and value == low):
            self.fail(path, "%s is outside %s%s, %s]" % (value, "(" if low_open else "[", low, high))
        return value

    def boolean(self, path, value):
        if not isinstance(value, bool):
            self.fail(path, "must be true or false, not %s" % _kind(value))
        return value

    def choice(self, path, value, choices):
        if value not in choices or not isinstance(value, str):
            self.fail(path, "%r is not one of %s" % (value, ", ".join(choices)))
        return value

    def pin(self, path, value, role):
        """role: out, safety_out, in_pull, adc, i2c, in."""
        if not _is_int(value):
            self.fail(path, "pin must be an integer GPIO number, not %s" % _kind(value))
        facts = _MCUS[self.mcu]
        if value not in facts["exists"]:
            self.fail(path, "pin %d does not exist on %s" % (value, self.mcu))
        if value in facts["flash"]:
            self.fail(path, "pin %d is wired to the SPI flash/PSRAM on %s" % (value, self.mcu))
        if role != "in" and role != "adc" and role != "in_pull" and value in facts["input_only"]:
            self.fail(path, "pin %d is input-only on %s" % (value, self.mcu))
        if role == "safety_out" and value in facts["strapping"]:
            self.fail(path, "pin %d is a strapping/boot-active pin on %s; a brake or drive "
                            "output must not pulse while the chip boots" % (value, self.mcu))
        if role == "in_pull" and value in facts["no_pull"]:
            self.fail(path, "pin %d has no internal pull resistor on %s, so a cut wire "
                            "would float" % (value, self.mcu))
        if role == "adc" and value not in facts["adc1"]:
            self.fail(path, "pin %d is not an ADC1 pin on %s (ADC2 cannot be read while "
                            "Wi-Fi is on)" % (value, self.mcu))
        if value in self.pins:
            self.fail(path, "pin %d already used by %s" % (value, self.pins[value]))
        self.pins[value] = path
        return value


def _join(path, key):
    return key if not path else path + "." + key


def _kind(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if _is_number(value):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _mdeg(deg):
    return int(round(deg * 1000))


def validate_board(board):
    """Check every field of a board dict; return it unchanged or raise BoardError."""
    check = _Check(board)
    check.keys("", board, _TOP_KEYS)
    name = board["name"]
    if not isinstance(name, str) or not name:
        check.fail("name", "must be a non-empty string")
    if not isinstance(board["description"], str):
        check.fail("description", "must be a string")
    check.mcu = check.choice("mcu", board["mcu"], tuple(sorted(_MCUS)))
    drive = check.choice("drive", board["drive"], _DRIVES)

    mech_min = check.number("mech_min_deg", board["mech_min_deg"],
                            _MECH_MIN_LIMIT_DEG, _MECH_MAX_LIMIT_DEG)
    mech_max = check.number("mech_max_deg", board["mech_max_deg"],
                            _MECH_MIN_LIMIT_DEG, _MECH_MAX_LIMIT_DEG)
    if mech_max <= 0 or mech_min >= 0:
        check.fail("mech_max_deg", "mechanical range %s..%s must include horizontal (0)"
                   % (mech_min, mech_max))
    home = check.number("home_deg", board["home_deg"], mech_min, mech_max)
    if home >= 0:
        # SPEC 2: home is the head-up loading position.
        check.fail("home_deg", "%s must be head-up (below 0)" % (home,))
    check.number("rated_mass_kg", board["rated_mass_kg"], 0, _RATED_MASS_CEILING_KG, low_open=True)
    check.integer("tick_ms", board["tick_ms"], TICK_MS, TICK_MS)
    check.integer("watchdog_ms", board["watchdog_ms"], _WATCHDOG_MIN_MS, _WATCHDOG_MAX_MS)

    # Safety outputs first, so a clash names the less critical pin.
    _check_brake(check, board["brake"])
    if drive == "actuator":
        for key in ("hbridge", "position_sensor", "current_sense", "actuator"):
            if board[key] is None:
                check.fail(key, "required when drive is \"actuator\"")
        _check_hbridge(check, board["hbridge"])
    else:
        for key in ("hbridge", "actuator"):
            if board[key] is not None:
                check.fail(key, "must be null when drive is \"brake\" (nothing to drive)")
    if board["position_sensor"] is not None:
        _check_position(check, board["position_sensor"], _mdeg(mech_min), _mdeg(mech_max))
    if board["current_sense"] is not None:
        _check_current(check, board["current_sense"])
    if board["actuator"] is not None:
        _check_actuator(check, board["actuator"])
    _check_imu(check, board["imu"])
    _check_buttons(check, board["buttons"])
    check.pin("estop_sense", board["estop_sense"], "in_pull")
    check.pin("buzzer", board["buzzer"], "out")
    check.pin("led", board["led"], "out")
    _check_uart(check, board["host_uart"])
    _check_table(check, board["table"], drive)
    return board


def _check_brake(check, brake):
    check.keys("brake", brake, ("pin", "release_level", "engage_ms"))
    check.pin("brake.pin", brake["pin"], "safety_out")
    check.integer("brake.release_level", brake["release_level"], 0, 1)
    check.integer("brake.engage_ms", brake["engage_ms"], 1, 1000)


def _check_hbridge(check, bridge):
    if not isinstance(bridge, dict):
        check.fail("hbridge", "must be an object, not %s" % _kind(bridge))
    if "wiring" not in bridge:
        check.fail("hbridge.wiring", "missing")
    wiring = check.choice("hbridge.wiring", bridge["wiring"], ("pwm_dir", "in1_in2"))
    inputs = ("pwm", "dir") if wiring == "pwm_dir" else ("in1", "in2")
    check.keys("hbridge", bridge, ("wiring",) + inputs + ("enable", "pwm_freq_hz",
                                                          "positive_duty_extends"))
    check.pin("hbridge.enable", bridge["enable"], "safety_out")
    for key in inputs:
        check.pin("hbridge." + key, bridge[key], "safety_out")
    # Above 40 kHz the ESP32 LEDC loses duty resolution; below 100 Hz the motor hums and jerks.
    check.integer("hbridge.pwm_freq_hz", bridge["pwm_freq_hz"], 100, 40000)
    check.boolean("hbridge.positive_duty_extends", bridge["positive_duty_extends"])


def _check_position(check, sensor, mech_min_mdeg, mech_max_mdeg):
    check.keys("position_sensor", sensor, ("adc", "cal"))
    check.pin("position_sensor.adc", sensor["adc"], "adc")
    cal = sensor["cal"]
    if not isinstance(cal, list) or len(cal) < 2:
        check.fail("position_sensor.cal", "needs at least 2 [raw, angle_mdeg] points")
    direction = 0
    for i in range(len(cal)):
        path = "position_sensor.cal[%d]" % i
        point = cal[i]
        if not isinstance(point, list) or len(point) != 2:
            check.fail(path, "must be a [raw, angle_mdeg] pair")
        raw = check.integer(path + "[0]", point[0], RAIL_MARGIN_COUNTS,
                            ADC_MAX_COUNTS - RAIL_MARGIN_COUNTS)
        check.integer(path + "[1]", point[1], _MECH_MIN_LIMIT_DEG * 1000,
                      _MECH_MAX_LIMIT_DEG * 1000)
        if i == 0:
            continue
        if raw <= cal[i - 1][0]:
            check.fail(path + "[0]", "raw counts must strictly increase")
        step = point[1] - cal[i - 1][1]
        if step == 0 or (direction != 0 and (step > 0) != (direction > 0)):
            check.fail(path + "[1]", "angles must be strictly monotonic")
        direction = step
    angles = [point[1] for point in cal]
    if min(angles) > mech_min_mdeg or max(angles) < mech_max_mdeg:
        check.fail("position_sensor.cal", "covers %d..%d mdeg, not the mechanical range "
                   "%d..%d" % (min(angles), max(angles), mech_min_mdeg, mech_max_mdeg))


def _check_current(check, sense):
    check.keys("current_sense", sense, ("adc", "ma_per_count", "offset_counts", "limit_ma"))
    check.pin("current_sense.adc", sense["adc"], "adc")
    ma_per_count = check.integer("current_sense.ma_per_count", sense["ma_per_count"], 1, 1000)
    offset = check.integer("current_sense.offset_counts", sense["offset_counts"],
                           0, ADC_MAX_COUNTS)
    limit = check.integer("current_sense.limit_ma", sense["limit_ma"], 1, 100000)
    if (ADC_MAX_COUNTS - offset) * ma_per_count <= limit:
        check.fail("current_sense.limit_ma", "%d mA is at or above what the ADC can read "
                   "(%d mA)" % (limit, (ADC_MAX_COUNTS - offset) * ma_per_count))


def _check_actuator(check, actuator):
    check.keys("actuator", actuator, _ACTUATOR_KEYS)
    check.number("actuator.stroke_mm", actuator["stroke_mm"], 0, 2000, low_open=True)
    check.number("actuator.retracted_mm", actuator["retracted_mm"], 0, 3000, low_open=True)
    check.number("actuator.no_load_speed_mm_s", actuator["no_load_speed_mm_s"], 0, 200,
                 low_open=True)
    check.number("actuator.max_force_n", actuator["max_force_n"], 0, 50000, low_open=True)
    check.boolean("actuator.self_locking", actuator["self_locking"])
    check.number("actuator.pivot_to_frame_anchor_mm", actuator["pivot_to_frame_anchor_mm"],
                 0, 3000, low_open=True)
    check.number("actuator.pivot_to_bed_anchor_mm", actuator["pivot_to_bed_anchor_mm"],
                 0, 3000, low_open=True)
    check.number("actuator.anchor_angle_offset_deg", actuator["anchor_angle_offset_deg"],
                 -180, 180)
    check.number("actuator.rate_deg_s_full_duty", actuator["rate_deg_s_full_duty"], 0, 60,
                 low_open=True)


def _check_imu(check, imu):
    check.keys("imu", imu, ("part", "i2c_id", "scl", "sda", "freq_hz", "address",
                            "along", "normal", "pitch", "level_offset_mdeg"))
    check.choice("imu.part", imu["part"], PARTS)
    check.integer("imu.i2c_id", imu["i2c_id"], 0, 1)
    check.pin("imu.scl", imu["scl"], "i2c")
    check.pin("imu.sda", imu["sda"], "i2c")
    check.integer("imu.freq_hz", imu["freq_hz"], 10000, _MPU_MAX_I2C_HZ)
    if imu["address"] not in _MPU_ADDRESSES or not _is_int(imu["address"]):
        check.fail("imu.address", "%r is not 104 (0x68) or 105 (0x69)" % (imu["address"],))
    along = check.choice("imu.along", imu["along"], AXES)
    normal = check.choice("imu.normal", imu["normal"], AXES)
    pitch = check.choice("imu.pitch", imu["pitch"], AXES)
    if along[1] == normal[1]:
        check.fail("imu.normal", "%s is the same axis as imu.along (%s)" % (normal, along))
    if pitch[1] == along[1] or pitch[1] == normal[1]:
        check.fail("imu.pitch", "%s must be the axis that is neither along nor normal" % pitch)
    if pitch != pitch_axis(along, normal):
        check.fail("imu.pitch", "%s, but normal x along is %s: a positive pitch rate must "
                   "turn the table head-down" % (pitch, pitch_axis(along, normal)))
    check.integer("imu.level_offset_mdeg", imu["level_offset_mdeg"],
                  -_LEVEL_OFFSET_MAX_MDEG, _LEVEL_OFFSET_MAX_MDEG)


def _check_buttons(check, buttons):
    check.keys("buttons", buttons, ("stop", "start", "up", "down", "attendant",
                                    "stop_normally_closed", "active_low"))
    for key in ("stop", "start", "up", "down"):
        check.pin("buttons." + key, buttons[key], "in_pull")
    if buttons["attendant"] is not None:
        check.pin("buttons.attendant", buttons["attendant"], "in_pull")
    if check.boolean("buttons.stop_normally_closed", buttons["stop_normally_closed"]) is not True:
        check.fail("buttons.stop_normally_closed", "must be true: a cut STOP wire has to "
                   "read as pressed (SPEC R5)")
    check.boolean("buttons.active_low", buttons["active_low"])


def _check_uart(check, uart):
    check.keys("host_uart", uart, ("id", "baud"), ("tx", "rx"))
    uart_id = check.integer("host_uart.id", uart["id"], 0, 2)
    check.integer("host_uart.baud", uart["baud"], 9600, 1000000)
    if "tx" in uart or "rx" in uart:
        if "tx" not in uart or "rx" not in uart:
            check.fail("host_uart", "give both tx and rx, or neither")
        check.pin("host_uart.tx", uart["tx"], "out")
        check.pin("host_uart.rx", uart["rx"], "in")
    elif uart_id == 0:
        tx, rx = _MCUS[check.mcu]["uart0"]
        check.pin("host_uart.tx (UART0 default)", tx, "out")
        check.pin("host_uart.rx (UART0 default)", rx, "in")
    else:
        # The ESP32's UART1 defaults sit on the flash pins: never use them unnamed.
        check.fail("host_uart.id", "UART%d needs tx and rx pins in host_uart" % uart_id)


def _check_table(check, table, drive):
    brake_keys_required = drive == "brake"
    check.keys("table", table, _TABLE_KEYS + (_TABLE_BRAKE_KEYS if brake_keys_required else ()),
               () if brake_keys_required else _TABLE_BRAKE_KEYS)
    check.number("table.mass_kg", table["mass_kg"], 0, 300, low_open=True)
    check.number("table.com_offset_mm", table["com_offset_mm"], -1000, 1000)
    check.number("table.inertia_kg_m2", table["inertia_kg_m2"], 0, 200, low_open=True)
    check.number("table.friction_nm", table["friction_nm"], 0, 1000)
    if "brake_torque_nm" in table:
        check.number("table.brake_torque_nm", table["brake_torque_nm"], 0, 10000, low_open=True)
    if "arms_shift_mm" in table:
        check.number("table.arms_shift_mm", table["arms_shift_mm"], 0, 500)


def load_board(path):
    """Read and validate one board file; BoardError names the file or field."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as exc:
        raise BoardError("board file %s: cannot read (%s)" % (path, exc))
    try:
        board = json.loads(text)
    except ValueError as exc:
        raise BoardError("board file %s: not valid JSON (%s)" % (path, exc))
    return validate_board(board)
