"""`python -m simulator serve`: the port it prints, bytes both ways, a clean exit."""
import io
import os
import select
import signal
import subprocess
import threading
import time
import tty

import pytest

from simhelp import PYTHON, REPO, cli, fake_factory

from simulator.serve import serve


def _read_until(fd, want, timeout_s):
    got = b""
    end = time.monotonic() + timeout_s
    while want not in got and time.monotonic() < end:
        if select.select([fd], [], [], 0.05)[0]:
            got += os.read(fd, 1024)
    return got


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_a_port_first_and_exits_0_on_a_signal(sig):
    proc = subprocess.Popen([PYTHON, "-m", "simulator", "serve"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        path = proc.stdout.readline().strip()
        assert path.startswith("/dev/")
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        try:
            assert os.isatty(fd)
            os.write(fd, b"HB\n")
            time.sleep(0.3)
            assert proc.poll() is None
        finally:
            os.close(fd)
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_with_an_invalid_scenario_exits_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "duration_s": 5, "board": "nope"}')
    out = cli("serve", "--scenario", str(bad), timeout=30)
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 1
    assert out.stderr.startswith('error: %s: board: unknown board "nope"' % bad)


class _Stop:
    requested = False


def test_bytes_flow_between_the_port_and_the_firmware_uart():
    log = []
    out = io.StringIO()
    stop = _Stop()
    worker = threading.Thread(target=serve, kwargs={
        "out": out, "app_factory": fake_factory(log), "stop": stop})
    worker.start()
    try:
        end = time.monotonic() + 10
        while not out.getvalue().endswith("\n") and time.monotonic() < end:
            time.sleep(0.01)
        path = out.getvalue().strip()
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        try:
            tty.setraw(fd)
            os.write(fd, b"PING 1\n")
            assert b"echo PING 1\n" in _read_until(fd, b"echo PING 1\n", 5.0)
            assert ("uart_line", b"PING 1") in log
        finally:
            os.close(fd)
    finally:
        stop.requested = True
        worker.join(timeout=10)
    assert not worker.is_alive()


def test_serve_runs_in_real_time():
    log = []
    out = io.StringIO()
    stop = _Stop()
    worker = threading.Thread(target=serve, kwargs={
        "out": out, "app_factory": fake_factory(log), "stop": stop})
    worker.start()
    time.sleep(1.0)
    stop.requested = True
    worker.join(timeout=10)
    app = [e[1] for e in log if e[0] == "boot"][0]
    # about 100 ticks in a second of wall time
    assert 70 <= app.ticks <= 110, app.ticks
