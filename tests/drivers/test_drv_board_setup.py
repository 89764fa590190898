"""Building the drivers from the shipped boards, fail-safe first."""
import os

import pytest

import boardcfg
from drivers.hbridge import PwmDirBridge

BOARDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "boards")


@pytest.fixture
def board_setup(machine):
    # Imported under the fixture, which has installed the fake machine.
    from drivers import board_setup
    return board_setup


def load(name):
    return boardcfg.load_board(os.path.join(BOARDS, name + ".json"))


@pytest.fixture
def actuator_board(machine):
    machine.external[4] = 0      # STOP contact closed
    machine.external[19] = 1     # actuator rail powered
    return load("esp32-devkitc-actuator")


def test_enable_low_and_brake_engaged_before_anything_else(machine, board_setup, actuator_board):
    board_setup.setup_board(actuator_board)
    # Pin(27) enable at 0, then Pin(32) brake at the engaging level 0.
    assert machine.created[0] == ("Pin", 27, machine.Pin.OUT, 0)
    assert machine.created[1] == ("Pin", 32, machine.Pin.OUT, 0)


def test_actuator_board_devices(machine, board_setup, actuator_board):
    devices = board_setup.setup_board(actuator_board, now_ms=0)
    assert devices.brake.engaged
    assert isinstance(devices.hbridge, PwmDirBridge)
    assert not devices.hbridge.enabled and devices.hbridge.duty_permille == 0
    assert machine.pins[27].level == 0
    assert machine.pins[25].level == 0   # PWM pin created low before PWM attaches
    assert devices.position is not None and devices.current is not None
    adcs = [entry for entry in machine.created if entry[0] == "ADC"]
    assert adcs == [("ADC", 34, machine.ADC.ATTN_11DB, None),
                    ("ADC", 35, machine.ADC.ATTN_11DB, None)]
    assert machine.pins[4].pull == machine.Pin.PULL_UP
    assert machine.pins[19].pull == machine.Pin.PULL_DOWN
    assert not devices.buttons.stop.pressed
    assert not devices.estop.active
    assert devices.buttons.attendant is not None
    assert machine.uarts[0].kwargs["timeout"] == 0
    assert devices.level_offset_mdeg == 0


def test_imu_and_frame_work_through_setup(machine, board_setup, actuator_board):
    part = machine.FakeMPU6050()
    machine.i2c_devices[104] = part
    devices = board_setup.setup_board(actuator_board)
    devices.imu.check()
    part.set_accel(-16384, 0, 0)
    devices.imu.read()
    devices.bedframe.update()
    assert devices.bedframe.along_mg == -1000


def test_cut_stop_wire_reads_pressed_at_boot(machine, board_setup):
    board = load("esp32-devkitc-actuator")     # nothing drives GPIO 4
    devices = board_setup.setup_board(board)
    devices.buttons.update(0)
    assert devices.buttons.stop.pressed


def test_brake_board_has_no_drive(machine, board_setup):
    board = load("esp32s3-brake")
    devices = board_setup.setup_board(board)
    assert devices.hbridge is None
    assert devices.position is None and devices.current is None
    assert machine.created[0] == ("Pin", 10, machine.Pin.OUT, 0)
    assert devices.brake.engaged


def test_watchdog_only_on_request(machine, board_setup, actuator_board):
    devices = board_setup.setup_board(actuator_board)
    assert machine.watchdogs == []
    dog = devices.start_watchdog()
    assert machine.watchdogs[0].timeout == 1000
    dog.feed_if(True)
    assert machine.watchdogs[0].feeds == 1


def test_in1_in2_board(machine, board_setup, actuator_board):
    actuator_board["hbridge"] = {"wiring": "in1_in2", "in1": 25, "in2": 26, "enable": 27,
                                 "pwm_freq_hz": 20000, "positive_duty_extends": True}
    boardcfg.validate_board(actuator_board)
    devices = board_setup.setup_board(actuator_board)
    assert machine.created[0] == ("Pin", 27, machine.Pin.OUT, 0)
    devices.hbridge.set_duty(-1000)
    pwms = {entry[1]: entry for entry in machine.created if entry[0] == "PWM"}
    assert pwms[25][2] == 20000 and pwms[26][2] == 20000
