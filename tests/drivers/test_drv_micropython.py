"""The drivers on the real MicroPython VM (unix port): no allocation per tick,
and boardcfg behaving as on CPython."""
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MICROPYTHON = os.path.join(REPO, ".venv", "bin", "micropython")

pytestmark = pytest.mark.skipif(not os.path.exists(MICROPYTHON),
                                reason="MicroPython unix port not installed in .venv")


def run_script(name):
    result = subprocess.run(
        [MICROPYTHON, os.path.join(HERE, name), os.path.join(REPO, "firmware"),
         os.path.join(REPO, "boards")],
        capture_output=True, text=True, timeout=120)
    return result.stdout.strip() + result.stderr.strip()


def test_tick_paths_allocate_nothing_under_heap_lock():
    assert run_script("mp_heap_check.py") == "OK"


def test_boardcfg_on_micropython():
    assert run_script("mp_boardcfg_check.py") == "OK"
