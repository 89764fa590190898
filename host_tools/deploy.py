"""Put the firmware on a board (mpremote) and MicroPython itself (esptool).

deploy: every firmware file but main.py is compiled with
`mpy-cross -march=xtensawin` into a staging folder (main.py stays source:
MicroPython runs main.py at boot), the board file goes in as board.json and
the device key as device_key.bin; then one `mpremote connect PORT fs cp -r
... : + reset`. flash: `esptool write-flash` of a MicroPython image at the
chip's offset.
"""
import json
import os
import shutil
import subprocess
import sys

from .link import LinkError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE_DIR = os.path.join(REPO, "firmware")
BOARDS_DIR = os.path.join(REPO, "boards")
SOURCE_ONLY = ("main.py", "boot.py")
FLASH_OFFSETS = {"esp32": "0x1000", "esp32s2": "0x1000", "esp32s3": "0x0", "esp32c3": "0x0",
                 "esp32c6": "0x0"}
MIN_IMAGE_BYTES = 64 * 1024


def find_tool(name):
    """A tool from this Python's environment first, then PATH."""
    here = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.exists(here):
        return here
    found = shutil.which(name)
    if not found:
        raise LinkError("%s not found (pip install %s)" % (name, name))
    return found


def check_port(port):
    if port.startswith("/dev/") and not os.path.exists(port):
        raise LinkError("no board on %s: the port does not exist (plugged in? "
                        "`invertctl ports` lists ports)" % port)


def board_file(board):
    if os.path.exists(board):
        path = board
    else:
        path = os.path.join(BOARDS_DIR, board + ".json")
        if not os.path.exists(path):
            names = sorted(f[:-5] for f in os.listdir(BOARDS_DIR) if f.endswith(".json"))
            raise LinkError("unknown board %s (known: %s)" % (board, ", ".join(names)))
    try:
        with open(path) as f:
            json.load(f)
    except (OSError, ValueError) as exc:
        raise LinkError("board file %s is not readable JSON: %s" % (path, exc)) from None
    return path


def stage(out_dir, board, key_path, firmware_dir=FIRMWARE_DIR, progress=None):
    """Compile and gather everything for the board into out_dir; returns its entries."""
    mpy_cross = find_tool("mpy-cross")
    bfile = board_file(board)
    with open(key_path, "rb") as f:
        key = f.read(64)
    if len(key) != 32:
        raise LinkError("device key %s must be 32 bytes (invertctl keygen makes one)" % key_path)
    sources = []
    for root, dirs, files in os.walk(firmware_dir):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                sources.append(os.path.relpath(os.path.join(root, name), firmware_dir))
    if not sources:
        raise LinkError("no firmware sources in %s" % firmware_dir)
    for i, rel in enumerate(sources):
        src = os.path.join(firmware_dir, rel)
        if rel in SOURCE_ONLY:
            dest = os.path.join(out_dir, rel)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copyfile(src, dest)
        else:
            dest = os.path.join(out_dir, rel[:-3] + ".mpy")
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            r = subprocess.run([mpy_cross, "-march=xtensawin", "-o", dest, src],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise LinkError("mpy-cross failed on %s: %s" % (rel, _last_line(r.stderr)))
        if progress:
            progress(i + 1, len(sources), rel)
    shutil.copyfile(bfile, os.path.join(out_dir, "board.json"))
    with open(os.path.join(out_dir, "device_key.bin"), "wb") as f:
        f.write(key)
    return sorted(os.listdir(out_dir))


def mpremote_command(port, out_dir, entries):
    cmd = [find_tool("mpremote"), "connect", port, "fs", "cp", "-r"]
    cmd += [os.path.join(out_dir, e) for e in entries]
    cmd += [":", "+", "reset"]
    return cmd


def run_tool(cmd, what):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as exc:
        raise LinkError("%s could not start: %s" % (what, exc.strerror or exc)) from None
    if r.returncode != 0:
        raise LinkError("%s failed (exit %d): %s"
                        % (what, r.returncode, _last_line(r.stderr or r.stdout)))
    return r.stdout


def esptool_command(port, image, chip, baud, erase):
    if chip not in FLASH_OFFSETS:
        raise LinkError("unknown chip %s (known: %s)" % (chip, ", ".join(sorted(FLASH_OFFSETS))))
    if not image:
        raise LinkError("no image: give --image FILE (a MicroPython .bin for %s)" % chip)
    if not os.path.isfile(image):
        raise LinkError("image %s does not exist" % image)
    if os.path.getsize(image) < MIN_IMAGE_BYTES:
        raise LinkError("image %s is too small to be a MicroPython firmware" % image)
    base = [sys.executable, "-m", "esptool", "--chip", chip, "--port", port, "--baud", str(baud)]
    cmds = []
    if erase:
        cmds.append(base + ["erase-flash"])
    cmds.append(base + ["write-flash", "-z", FLASH_OFFSETS[chip], image])
    return cmds


def _last_line(text):
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"
