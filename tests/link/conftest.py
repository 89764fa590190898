"""Each link test builds the firmware afresh on the simulator's machine, as
the simulator's runner does, and puts back whatever was imported before:
other folders' tests install their own `machine` stand-ins."""
import os
import sys

import pytest

import linkrig
from simulator import machine as sim_machine

FIRMWARE = os.path.join(linkrig.REPO, "firmware") + os.sep


def _firmware_modules():
    return {name: m for name, m in list(sys.modules.items())
            if (getattr(m, "__file__", None) or "").startswith(FIRMWARE)}


@pytest.fixture(autouse=True)
def fresh_firmware():
    saved = _firmware_modules()
    for name in saved:
        del sys.modules[name]
    yield
    for name in _firmware_modules():
        del sys.modules[name]
    sim_machine.uninstall()
    sys.modules.update(saved)
