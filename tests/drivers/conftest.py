"""Driver tests: firmware/ and this folder (fake_machine) on the import path."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FIRMWARE = os.path.join(REPO, "firmware")
BOARDS = os.path.join(REPO, "boards")

for path in (FIRMWARE, HERE):
    if path not in sys.path:
        sys.path.insert(0, path)

import fake_machine  # noqa: E402


@pytest.fixture
def machine(monkeypatch):
    """fake_machine, reset and installed as machine (also inside board_setup)."""
    fake_machine.reset()
    monkeypatch.setitem(sys.modules, "machine", fake_machine)
    from drivers import board_setup
    monkeypatch.setattr(board_setup, "machine", fake_machine)
    yield fake_machine
    fake_machine.reset()


@pytest.fixture
def no_sleep(monkeypatch):
    """The MPU-6050 driver's settle waits, skipped (the fake settles at once)."""
    from drivers import mpu6050
    monkeypatch.setattr(mpu6050, "_sleep_ms", lambda ms: None)
