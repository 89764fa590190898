"""mypy checks the hardware layer against the MicroPython ESP32 stubs.

The first test is the gate (the drivers and boardcfg type-check clean). The
second proves the gate has teeth: wrong machine.* calls written the way the
drivers write theirs are reported, and MicroPython-only stdlib (time.ticks_ms)
is accepted, which CPython's typeshed would refuse.
"""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CONFIG = os.path.join(REPO, "mypy-hw.ini")
STUBS = os.path.join(REPO, ".venv", "stubs")

pytestmark = pytest.mark.skipif(not os.path.isdir(STUBS),
                                reason="micropython-esp32-stubs not installed in .venv/stubs")

BAD = '''\
import time

import machine
from drivers.hbridge import PwmDirBridge

TYPE_CHECKING = False
if TYPE_CHECKING:
    import machine as _m


class Driver:
    def __init__(self, i2c: "_m.I2C", pwm: "_m.PWM") -> None:
        self._i2c = i2c
        self._pwm = pwm
        self._buf = bytearray(14)

    def read(self):
        self._i2c.readfrom_mem_into(0x68, 0x3B)          # line 18: buffer missing

    def drive(self):
        self._pwm.duty_u16("x")                          # line 21: str for int


start_ms = time.ticks_ms()                               # fine on MicroPython
i2c = machine.I2C(0, scl=machine.Pin(22), sda=machine.Pin(21), freq=400000)
PwmDirBridge(i2c, machine.Pin(26), machine.Pin(27))      # line 26: I2C is not a PWM
'''


def mypy(tmp_path, *files):
    command = [sys.executable, "-m", "mypy", "--config-file", CONFIG,
               "--cache-dir", str(tmp_path / "cache")] + list(files)
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    return result.returncode, result.stdout + result.stderr


def test_hardware_layer_type_checks(tmp_path):
    code, output = mypy(tmp_path)
    assert code == 0, output
    assert "Success" in output


def test_wrong_machine_calls_fail(tmp_path):
    bad = tmp_path / "bad_driver.py"
    bad.write_text(BAD)
    code, output = mypy(tmp_path, str(bad))
    assert code == 1, output
    assert 'bad_driver.py:18: error: Too few arguments for "readfrom_mem_into" of "I2C"' in output
    assert 'bad_driver.py:21: error: No overload variant of "duty_u16" of "PWM"' in output
    assert 'bad_driver.py:26: error: Argument 1 to "PwmDirBridge" has incompatible type "I2C"' \
        in output
    assert "ticks_ms" not in output
    assert output.count("error:") == 3, output
