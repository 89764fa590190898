"""The plant runs under the MicroPython unix port and matches CPython."""
import os
import subprocess
import sys

import pytest

from simrig import ACTUATOR, BRAKE, MICROPYTHON, REPO

PLANT_MODULES = ("clock", "vtime", "noise", "physics", "actuator", "imu_model",
                 "board_emul", "machine", "micropython_stub", "plant", "openloop_trace",
                 "bench_plant")

needs_mpy = pytest.mark.skipif(not os.path.exists(MICROPYTHON), reason="no MicroPython unix port")


def _trace(cmd, name, seed, seconds):
    out = subprocess.run(cmd + ["-m", "simulator.openloop_trace", name, str(seed), str(seconds)],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return [line.split() for line in out.stdout.splitlines()]


@needs_mpy
def test_plant_modules_import_under_micropython():
    code = "import simulator.%s" % "\nimport simulator.".join(PLANT_MODULES)
    out = subprocess.run([MICROPYTHON, "-c", "import sys\nsys.path.insert(0, '.')\n" + code],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


@needs_mpy
@pytest.mark.parametrize("name", [ACTUATOR, BRAKE])
def test_open_loop_30s_same_on_both_vms(name):
    cp = _trace([sys.executable], name, 11, 30)
    mp = _trace([MICROPYTHON], name, 11, 30)
    assert len(cp) == len(mp) == 3000
    worst = 0.0
    for a, b in zip(cp, mp):
        worst = max(worst, abs(float(a[1]) - float(b[1])))
    assert worst <= 1e-6
    # in practice every value, sensor words and ADC counts included, is identical
    assert cp == mp
    thetas = [float(r[1]) for r in cp]
    assert max(thetas) - min(thetas) > 20.0       # the run did move the table


def test_seed_changes_the_noise_not_the_physics():
    a = _trace([sys.executable], ACTUATOR, 1, 3)
    b = _trace([sys.executable], ACTUATOR, 2, 3)
    assert [r[1] for r in a] == [r[1] for r in b]
    assert [r[6:] for r in a] != [r[6:] for r in b]
