"""Polled, debounced buttons; STOP and the e-stop sense react on the first tick."""
import pytest

from drivers.buttons import DEBOUNCE_MS, Buttons, DebouncedInput, EstopSense, pressed_level

TICK_MS = 10
STOP, START, UP, DOWN = 4, 16, 17, 5


def pull_up(machine, pin):
    return machine.Pin(pin, machine.Pin.IN, machine.Pin.PULL_UP)


@pytest.fixture
def stop(machine):
    machine.external[STOP] = 0    # NC contact closed to ground: not pressed
    return DebouncedInput(pull_up(machine, STOP), pressed_level(True, True), press_ms=0)


@pytest.fixture
def start(machine):
    return DebouncedInput(pull_up(machine, START), pressed_level(True, False))


def test_pressed_level_for_each_wiring():
    assert pressed_level(active_low=True, normally_closed=False) == 0
    assert pressed_level(active_low=True, normally_closed=True) == 1
    assert pressed_level(active_low=False, normally_closed=False) == 1
    assert pressed_level(active_low=False, normally_closed=True) == 0


def test_stop_at_rest_not_pressed(stop):
    stop.update(0)
    stop.update(10)
    assert not stop.pressed


def test_stop_cut_wire_reads_pressed(machine, stop):
    stop.update(0)
    del machine.external[STOP]    # wire cut: the pull-up wins
    stop.update(10)
    assert stop.pressed and stop.just_pressed


def test_stop_cut_wire_at_boot_is_pressed(machine):
    stop = DebouncedInput(pull_up(machine, STOP), pressed_level(True, True), press_ms=0)
    assert stop.pressed
    stop.update(0)
    assert stop.pressed


def test_stop_press_detected_on_first_tick(machine, stop):
    stop.update(0)
    machine.external[STOP] = 1     # contact opens
    stop.update(10)
    assert stop.pressed and stop.just_pressed
    stop.update(20)
    assert stop.pressed and not stop.just_pressed


def test_stop_release_is_debounced(machine, stop):
    machine.external[STOP] = 1
    stop.update(0)
    # Contact bounce while releasing: closed for one tick, open again.
    machine.external[STOP] = 0
    stop.update(10)
    machine.external[STOP] = 1
    stop.update(20)
    assert stop.pressed
    machine.external[STOP] = 0
    for now in range(30, 30 + DEBOUNCE_MS, TICK_MS):
        stop.update(now)
        assert stop.pressed
    stop.update(30 + DEBOUNCE_MS)
    assert not stop.pressed and stop.just_released


def test_button_ignores_one_tick_glitch(machine, start):
    start.update(0)
    machine.external[START] = 0
    start.update(10)
    machine.external[START] = 1
    for now in range(20, 200, TICK_MS):
        start.update(now)
        assert not start.pressed and not start.just_pressed


def test_button_press_after_debounce_edge_once(machine, start):
    start.update(0)
    machine.external[START] = 0
    edges = []
    for now in range(10, 200, TICK_MS):
        start.update(now)
        edges.append(start.just_pressed)
    assert edges.count(True) == 1
    assert edges.index(True) == DEBOUNCE_MS // TICK_MS   # accepted after 30 ms stable
    assert start.pressed


def test_held_ms_counts_from_first_reading(machine, start):
    start.update(0)
    machine.external[START] = 0
    for now in range(10, 1010, TICK_MS):
        start.update(now)
    assert start.held_ms == 990
    machine.external[START] = 1
    for now in range(1010, 1100, TICK_MS):
        start.update(now)
    assert not start.pressed and start.held_ms == 0


def test_button_held_at_boot_has_no_edge(machine):
    machine.external[START] = 0
    start = DebouncedInput(pull_up(machine, START), 0)
    for now in range(0, 100, TICK_MS):
        start.update(now)
        assert start.pressed and not start.just_pressed


def test_estop_sense_low_is_active_at_once(machine):
    machine.external[19] = 1          # rail powered
    estop = EstopSense(machine.Pin(19, machine.Pin.IN, machine.Pin.PULL_DOWN))
    estop.update(0)
    assert not estop.active
    machine.external[19] = 0
    estop.update(10)
    assert estop.active


def test_estop_sense_cut_wire_is_active(machine):
    estop = EstopSense(machine.Pin(19, machine.Pin.IN, machine.Pin.PULL_DOWN))
    estop.update(0)
    assert estop.active


def test_buttons_update_all_and_allow_no_attendant(machine, stop, start):
    up = DebouncedInput(pull_up(machine, UP), 0)
    down = DebouncedInput(pull_up(machine, DOWN), 0)
    buttons = Buttons(stop, start, up, down, None)
    machine.external[STOP] = 1
    machine.external[UP] = 0
    for now in range(0, 50, TICK_MS):
        buttons.update(now)
    assert buttons.stop.pressed and buttons.up.pressed
    assert not buttons.start.pressed and not buttons.down.pressed
    assert buttons.attendant is None
