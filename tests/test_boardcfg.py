"""Board file validation: the shipped boards pass, each rule refuses with a
message naming the field."""
import copy
import json
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(REPO, "firmware")
BOARDS = os.path.join(REPO, "boards")
if FIRMWARE not in sys.path:
    sys.path.insert(0, FIRMWARE)

import boardcfg  # noqa: E402
from boardcfg import BoardError, load_board, validate_board  # noqa: E402

SHIPPED = ("esp32-devkitc-actuator", "esp32s3-brake")


def shipped(name):
    with open(os.path.join(BOARDS, name + ".json")) as f:
        return json.load(f)


@pytest.fixture
def actuator():
    return shipped("esp32-devkitc-actuator")


@pytest.fixture
def brake_board():
    return shipped("esp32s3-brake")


def refused(board, expected):
    """Validation fails and the message contains expected (field path first)."""
    with pytest.raises(BoardError) as info:
        validate_board(board)
    message = str(info.value)
    name = board.get("name") if isinstance(board, dict) else None
    assert message.startswith("board %s: " % (name or "?"))
    assert expected in message, message
    return message


# --- the shipped boards ----------------------------------------------------

@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_boards_load_unchanged(name):
    board = load_board(os.path.join(BOARDS, name + ".json"))
    assert board == shipped(name)


def test_board_error_is_value_error():
    assert issubclass(BoardError, ValueError)


def test_in1_in2_wiring_accepted(actuator):
    actuator["hbridge"] = {"wiring": "in1_in2", "in1": 25, "in2": 26, "enable": 27,
                           "pwm_freq_hz": 20000, "positive_duty_extends": False}
    assert validate_board(actuator) is actuator


def test_uart_with_named_pins_accepted(actuator):
    actuator["host_uart"] = {"id": 2, "baud": 115200, "tx": 13, "rx": 14}
    validate_board(actuator)


# --- keys --------------------------------------------------------------------

def test_unknown_key_refused(actuator):
    actuator["imu"]["gain"] = 2
    refused(actuator, "imu.gain: unknown key")


def test_unknown_top_level_key_refused(actuator):
    actuator["wdt_ms"] = 500
    refused(actuator, "wdt_ms: unknown key")


def test_missing_key_refused(actuator):
    del actuator["buttons"]["up"]
    refused(actuator, "buttons.up: missing")


def test_not_an_object(actuator):
    refused([], "top level: must be an object")
    actuator["brake"] = 32
    refused(actuator, "brake: must be an object, not a number")


# --- types -------------------------------------------------------------------

def test_wrong_types_refused(actuator):
    bad = copy.deepcopy(actuator)
    bad["imu"]["scl"] = "22"
    refused(bad, "imu.scl: pin must be an integer GPIO number, not a string")
    bad = copy.deepcopy(actuator)
    bad["watchdog_ms"] = True
    refused(bad, "watchdog_ms: must be an integer, not a boolean")
    bad = copy.deepcopy(actuator)
    bad["hbridge"]["positive_duty_extends"] = 1
    refused(bad, "hbridge.positive_duty_extends: must be true or false")
    bad = copy.deepcopy(actuator)
    bad["mcu"] = "esp8266"
    refused(bad, "mcu: 'esp8266' is not one of esp32, esp32s3")


# --- pins ----------------------------------------------------------------------

def test_input_only_pin_as_output(actuator):
    actuator["hbridge"]["pwm"] = 34
    actuator["position_sensor"]["adc"] = 36
    refused(actuator, "board esp32-devkitc-actuator: hbridge.pwm: pin 34 is input-only on esp32")


@pytest.mark.parametrize("pin,text", [
    (24, "pin 24 does not exist on esp32"),
    (40, "pin 40 does not exist on esp32"),
    (-1, "pin -1 does not exist on esp32"),
    (7, "pin 7 is wired to the SPI flash/PSRAM on esp32"),
])
def test_pin_must_exist_and_be_free_of_flash(actuator, pin, text):
    actuator["buzzer"] = pin
    refused(actuator, "buzzer: " + text)


def test_esp32s3_pin_range(brake_board):
    brake_board["led"] = 49
    refused(brake_board, "led: pin 49 does not exist on esp32s3")
    brake_board["led"] = 30
    refused(brake_board, "led: pin 30 is wired to the SPI flash/PSRAM on esp32s3")
    brake_board["led"] = 40     # beyond the esp32's outputs, an ordinary GPIO on the S3
    validate_board(brake_board)


def test_pin_used_twice(actuator):
    actuator["led"] = 23
    refused(actuator, "led: pin 23 already used by buzzer")


def test_uart0_default_pins_are_taken(actuator):
    actuator["led"] = 1
    refused(actuator, "host_uart.tx (UART0 default): pin 1 already used by led")


def test_safety_output_on_strapping_pin(actuator):
    actuator["brake"]["pin"] = 12
    refused(actuator, "brake.pin: pin 12 is a strapping/boot-active pin on esp32")


def test_button_without_internal_pull(actuator):
    actuator["position_sensor"]["adc"] = 33
    actuator["buttons"]["stop"] = 34
    refused(actuator, "buttons.stop: pin 34 has no internal pull resistor on esp32")


def test_analog_input_must_be_adc1(actuator):
    actuator["current_sense"]["adc"] = 13
    refused(actuator, "current_sense.adc: pin 13 is not an ADC1 pin on esp32")


def test_uart_other_than_0_needs_pins(actuator):
    actuator["host_uart"]["id"] = 1
    refused(actuator, "host_uart.id: UART1 needs tx and rx pins")
    actuator["host_uart"]["tx"] = 13
    refused(actuator, "host_uart: give both tx and rx, or neither")


# --- drive sections ------------------------------------------------------------

@pytest.mark.parametrize("section", ["hbridge", "position_sensor", "current_sense", "actuator"])
def test_actuator_drive_needs_sections(actuator, section):
    actuator[section] = None
    refused(actuator, section + ': required when drive is "actuator"')


def test_brake_drive_refuses_hbridge(brake_board, actuator):
    brake_board["hbridge"] = actuator["hbridge"]
    refused(brake_board, 'hbridge: must be null when drive is "brake"')


def test_brake_drive_needs_brake_physics(brake_board):
    del brake_board["table"]["brake_torque_nm"]
    refused(brake_board, "table.brake_torque_nm: missing")


def test_unknown_drive(actuator):
    actuator["drive"] = "hydraulic"
    refused(actuator, "drive: 'hydraulic' is not one of actuator, brake")


def test_hbridge_wiring(actuator):
    actuator["hbridge"]["wiring"] = "in1_in2"
    refused(actuator, "hbridge.in1: missing")
    actuator["hbridge"]["wiring"] = "half"
    refused(actuator, "hbridge.wiring: 'half' is not one of pwm_dir, in1_in2")


# --- angles --------------------------------------------------------------------

def test_home_within_mech_limits(actuator):
    actuator["home_deg"] = -75
    refused(actuator, "home_deg: -75 is outside [-72, 92]")


def test_home_must_be_head_up(actuator):
    actuator["home_deg"] = 0
    refused(actuator, "home_deg: 0 must be head-up (below 0)")


@pytest.mark.parametrize("key,value,text", [
    ("mech_min_deg", -91, "mech_min_deg: -91 is outside [-90, 95]"),
    ("mech_max_deg", 96, "mech_max_deg: 96 is outside [-90, 95]"),
    ("mech_max_deg", -10, "must include horizontal"),
])
def test_mech_limits(actuator, key, value, text):
    actuator[key] = value
    actuator["position_sensor"]["cal"] = [[200, -90000], [3800, 95000]]
    refused(actuator, text)


# --- position calibration --------------------------------------------------------

def test_cal_needs_two_points(actuator):
    actuator["position_sensor"]["cal"] = [[400, -72000]]
    refused(actuator, "position_sensor.cal: needs at least 2")


def test_cal_raw_strictly_increasing(actuator):
    actuator["position_sensor"]["cal"] = [[400, -72000], [2000, 0], [2000, 10000],
                                          [3700, 92000]]
    refused(actuator, "position_sensor.cal[2][0]: raw counts must strictly increase")


def test_cal_angles_monotonic(actuator):
    actuator["position_sensor"]["cal"] = [[400, -72000], [2000, 10000], [3000, 5000],
                                          [3700, 92000]]
    refused(actuator, "position_sensor.cal[2][1]: angles must be strictly monotonic")


def test_cal_may_fall(actuator):
    actuator["position_sensor"]["cal"] = [[400, 92000], [3700, -72000]]
    validate_board(actuator)


def test_cal_raw_inside_rail_margins(actuator):
    actuator["position_sensor"]["cal"] = [[50, -72000], [3700, 92000]]
    refused(actuator, "position_sensor.cal[0][0]: 50 is outside 100..3995")


def test_cal_covers_mech_range(actuator):
    actuator["position_sensor"]["cal"] = [[400, -60000], [3700, 92000]]
    refused(actuator, "position_sensor.cal: covers -60000..92000 mdeg, not the mechanical")


def test_cal_point_shape(actuator):
    actuator["position_sensor"]["cal"] = [[400, -72000], [3700]]
    refused(actuator, "position_sensor.cal[1]: must be a [raw, angle_mdeg] pair")


# --- IMU axes ----------------------------------------------------------------------

def test_axis_strings(actuator):
    actuator["imu"]["along"] = "x"
    refused(actuator, "imu.along: 'x' is not one of +x, -x, +y, -y, +z, -z")


def test_axes_distinct(actuator):
    actuator["imu"]["normal"] = "-x"
    refused(actuator, "imu.normal: -x is the same axis as imu.along")
    actuator["imu"]["normal"] = "+z"
    actuator["imu"]["pitch"] = "-z"
    refused(actuator, "imu.pitch: -z must be the axis that is neither")


def test_pitch_handedness(actuator):
    actuator["imu"]["pitch"] = "-y"
    refused(actuator, "imu.pitch: -y, but normal x along is +y")


def test_imu_part_and_address(actuator):
    actuator["imu"]["part"] = "bno055"
    refused(actuator, "imu.part: 'bno055' is not one of mpu6050")
    actuator["imu"]["part"] = "mpu6050"
    actuator["imu"]["address"] = 0x28
    refused(actuator, "imu.address: 40 is not 104 (0x68) or 105 (0x69)")


# --- scalars ------------------------------------------------------------------------

@pytest.mark.parametrize("value,ok", [(0, False), (-1, False), (0.5, True), (300, True),
                                      (300.5, False)])
def test_rated_mass(actuator, value, ok):
    actuator["rated_mass_kg"] = value
    if ok:
        validate_board(actuator)
    else:
        refused(actuator, "rated_mass_kg: ")


def test_tick_ms_is_10(actuator):
    actuator["tick_ms"] = 20
    refused(actuator, "tick_ms: 20 is outside 10..10")


def test_watchdog_range(actuator):
    actuator["watchdog_ms"] = 5000
    refused(actuator, "watchdog_ms: 5000 is outside 100..1000")


def test_stop_must_be_normally_closed(actuator):
    actuator["buttons"]["stop_normally_closed"] = False
    refused(actuator, "buttons.stop_normally_closed: must be true")


def test_attendant_optional(actuator):
    actuator["buttons"]["attendant"] = None
    validate_board(actuator)


def test_current_limit_readable(actuator):
    actuator["current_sense"]["limit_ma"] = 20000
    refused(actuator, "current_sense.limit_ma: 20000 mA is at or above what the ADC can read")


def test_brake_fields(actuator):
    actuator["brake"]["release_level"] = 2
    refused(actuator, "brake.release_level: 2 is outside 0..1")


def test_actuator_physics(actuator):
    actuator["actuator"]["rate_deg_s_full_duty"] = 0
    refused(actuator, "actuator.rate_deg_s_full_duty: 0 is outside (0, 60]")


# --- files --------------------------------------------------------------------------

def test_load_bad_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"name": "broken",')
    with pytest.raises(BoardError, match="broken.json: not valid JSON"):
        load_board(str(path))


def test_load_missing_file(tmp_path):
    with pytest.raises(BoardError, match="cannot read"):
        load_board(str(tmp_path / "nope.json"))


def test_no_os_path_needed():
    # boardcfg runs on MicroPython, which has no os.path.
    assert "os" not in vars(boardcfg)
