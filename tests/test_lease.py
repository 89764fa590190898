"""A stalled control loop cannot leave the actuator running (drive lease)."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for p in (ROOT, os.path.join(ROOT, "firmware")):
    if p not in sys.path:
        sys.path.insert(0, p)

import json  # noqa: E402

from simulator import machine as sim_machine  # noqa: E402
from simulator.plant import Plant  # noqa: E402


def _fresh_firmware():
    # Other tests import the drivers against their own stand-in `machine`;
    # a board boots its firmware afresh, and so does this test.
    fw = os.path.join(ROOT, "firmware") + os.sep
    for name, mod in list(sys.modules.items()):
        if (getattr(mod, "__file__", None) or "").startswith(fw):
            del sys.modules[name]


def _rig():
    _fresh_firmware()
    with open(os.path.join(ROOT, "boards", "esp32-devkitc-actuator.json")) as f:
        board = json.load(f)
    plant = Plant(board, None, 5)
    sim_machine.install(plant.emul)
    from drivers.board_setup import setup_board
    from app import App
    dev = setup_board(board)
    app = App(board, dev, {"level": 3, "preferred_angle": 60})
    return plant, dev, app


def _tick(plant, app, k):
    if k % 25 == 0:
        app.heartbeat("host")
    plant.step(10)
    plant.emul.advance(10)
    app.tick(10)


def _press_start(plant, app):
    # A program is armed by the host and begun by the person's START press.
    plant.press("start")
    for k in range(5):
        _tick(plant, app, 100 + k)
    plant.release("start")
    for k in range(5):
        _tick(plant, app, 105 + k)


def test_drive_drops_by_itself_when_the_loop_stops_renewing_it():
    plant, dev, app = _rig()
    try:
        for k in range(100):
            _tick(plant, app, k)
        ok, _ = app.start_program("beginner")
        assert ok
        _press_start(plant, app)
        for k in range(110, 400):
            _tick(plant, app, k)
        assert dev.hbridge.duty_permille != 0, "the table should be moving now"
        # The loop hangs: no more ticks, but time (and the hardware timer) goes on.
        for _ in range(4):
            plant.step(10)
            plant.emul.advance(10)
        plant.step(10)
        assert dev.hbridge.duty_permille == 0
        assert plant.duty == 0, "the motor still sees a drive command"
        assert app.lease.expired_count == 1
    finally:
        app.stop()


def test_a_running_loop_keeps_its_lease():
    plant, dev, app = _rig()
    try:
        for k in range(100):
            _tick(plant, app, k)
        app.start_program("beginner")
        _press_start(plant, app)
        for k in range(110, 600):
            _tick(plant, app, k)
        assert app.lease.expired_count == 0
    finally:
        app.stop()
