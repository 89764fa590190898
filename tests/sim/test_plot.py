"""The PNG from hand-made rows: it is written, at the promised size, and
matplotlib is loaded only when a plot is asked for."""
import struct
import subprocess

import simhelp
from simhelp import PYTHON, REPO

from simulator.plot import plot, _gaps, _runs
from simulator.runner import Result
from simulator.trace import make_row


def _result():
    rows = []
    for k in range(0, 3000):
        th = -70.0 + k * 0.05 if k < 2600 else 60.0
        state = "moving" if k < 2600 else "holding"
        rows.append(make_row(k, theta_deg=th, est_mdeg=int(th * 1000) + 200,
                             setpoint_mdeg=int(th * 1000), state=state, duty_permille=400,
                             brake=k >= 2600, brake_actual=k >= 2604,
                             scenario_event="program:decompression" if k == 10 else "",
                             fw_event="stop" if k == 2900 else "", trigger=k == 2900))
    rows += [make_row(k, theta_deg=59.0, state="emergency_return") for k in range(3500, 3600)]
    summary = {"name": "synthetic", "board": "esp32-devkitc-actuator", "seed": 0,
               "home_deg": -70}
    return Result(rows, summary, 10, None)


def test_plot_writes_a_png_of_12_by_7_inches_at_160_dpi(tmp_path):
    out = tmp_path / "p.png"
    plot(_result(), str(out))
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (12 * 160, 7 * 160)


def test_state_runs_and_gaps():
    assert _runs([0, 1, 2, 5, 6], ["a", "a", "b", "b", "b"]) == [
        ("a", 0, 1), ("b", 2, 2), ("b", 5, 6)]
    assert _gaps([0, 1, 2, 5, 6, 9]) == [(3, 4), (7, 8)]


def test_run_without_plot_does_not_import_matplotlib():
    code = ("import sys; sys.argv = ['x', 'run', 'scenarios/stop-at-60.json'];"
            "from simulator.__main__ import main; import simulator.runner as r;"
            "from simhelp import fake_factory;"
            "r._default_app_factory = fake_factory([]);"
            "main(sys.argv[1:]); print('matplotlib' in sys.modules)")
    out = subprocess.run([PYTHON, "-c", code], cwd=REPO, capture_output=True, text=True,
                         timeout=120, env={"PYTHONPATH": simhelp.HERE})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"
