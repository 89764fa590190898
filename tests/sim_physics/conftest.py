"""Fixtures for the plant/emulation tests (helpers live in simrig.py)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from simrig import Rig  # noqa: E402
from simulator import machine as sim_machine  # noqa: E402


@pytest.fixture
def rig_factory():
    def make(name, **kw):
        return Rig(name, **kw)

    yield make
    sim_machine.uninstall()
