"""Measure the firmware's speed and memory; write bench/results.json.

Figures, not pass/fail: targets are printed beside them. Every figure comes
from a run made here and now:

- tick_us_mpvm, tick_alloc_bytes, pystones_per_s_mpvm: bench/mp_tick.py on
  the MicroPython VM (the tick and pystone in the same process);
- tick_est_esp32_ms: the tick scaled by 1661 pystones/s, the published
  figure for MicroPython on an ESP32 at 240 MHz (MicroPython issue 5673);
- firmware_heap_peak_kib: tests/mpvm/heap_peak.py, the firmware precompiled
  to .mpy, above the interpreter's own use; split into the loaded code
  (firmware_code_heap_kib) and the data (firmware_data_heap_peak_kib);
  firmware_heap_peak_romfs_kib and firmware_code_heap_romfs_kib: the same
  .mpy run in place from a ROMFS image (vfs.VfsRom), as a board whose image
  has a ROMFS partition or the firmware frozen in would run it;
- sim_realtime_factor: simulator/bench_sim.py on CPython (30 virtual minutes);
- mpvm_trace_max_diff_deg: one scenario's closed loop on both VMs, compared;
- peers: the controller against a plain PID and a bang-bang controller on
  the same plant and scenarios (bench/peers.py, which defines every
  metric): controller -> metric -> value, with the reference profile's
  times and the target under "reference"; printed as a table of its own.
"""
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MICROPYTHON = os.path.join(ROOT, ".venv", "bin", "micropython")
ESP32_PYSTONES_PER_S = 1661
TARGETS = {
    "tick_est_esp32_ms": ("<=", 3.0),
    "tick_alloc_bytes": ("<=", 0),
    "firmware_heap_peak_kib": ("<=", 64),
    "sim_realtime_factor": (">=", 600.0),
    "mpvm_trace_max_diff_deg": ("<=", 0.1),
}


def _json_line(cmd, timeout_s=900):
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s)
    text = out.stdout
    start = text.find("{")
    if out.returncode == 0 and start >= 0:
        return json.loads(text[start:text.rindex("}") + 1])
    raise RuntimeError("%s printed no result:\n%s\n%s" % (" ".join(cmd), out.stdout[-2000:], out.stderr[-2000:]))


def _heap_figures():
    """Peak live heap of a whole session on the MicroPython VM
    (tests/mpvm/heap_peak.py via tests/mpvm/heap_modes.py), the firmware
    precompiled to .mpy as deploy does, split into the loaded code and the
    firmware's data; and the same .mpy run in place from a ROMFS image, as
    frozen modules or a ROMFS partition would be on a board."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "mpvm"))
    import heap_modes

    out = tempfile.mkdtemp(prefix="heap-")
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # make_romfs lists the files
            mpy_dir, image = heap_modes.build(out)
        mpy = heap_modes.figures(mpy_dir)
        rom = heap_modes.figures(image)
    except (RuntimeError, subprocess.SubprocessError) as e:
        print("bench: heap figures not found: %s" % e, file=sys.stderr)
        return {"firmware_heap_peak_kib": None}
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {"firmware_heap_peak_kib": round(mpy["peak"] / 1024, 1),
            "firmware_code_heap_kib": round(mpy["code"] / 1024, 1),
            "firmware_data_heap_peak_kib": round(mpy["data"] / 1024, 1),
            "firmware_heap_peak_romfs_kib": round(rom["peak"] / 1024, 1),
            "firmware_code_heap_romfs_kib": round(rom["code"] / 1024, 1)}


def main():
    results = {}
    tick = _json_line([MICROPYTHON, "bench/mp_tick.py"])
    results.update(tick)
    results["tick_est_esp32_ms"] = round(
        tick["tick_us_mpvm"] * tick["pystones_per_s_mpvm"] / ESP32_PYSTONES_PER_S / 1000.0, 3)
    results.update(_heap_figures())
    others = [
        [sys.executable, "-m", "simulator.bench_sim"],
        [sys.executable, "-m", "simulator.vm_compare"],
    ]
    for cmd in others:
        try:
            figures = _json_line(cmd)
            if "realtime_factor" in figures:
                figures = {"sim_realtime_factor": figures["realtime_factor"],
                           "sim_us_per_tick": figures["us_per_tick"],
                           "sim_30min_total_s": figures["total_s"]}
            results.update(figures)
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
            print("bench: %s gave no figures: %s" % (" ".join(cmd[-2:]), str(exc).splitlines()[0]),
                  file=sys.stderr)
    try:
        results["peers"] = _json_line([sys.executable, os.path.join("bench", "peers.py"), "--json"])
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
        print("bench: bench/peers.py gave no figures: %s" % str(exc).splitlines()[0],
              file=sys.stderr)
    path = os.path.join(ROOT, "bench", "results.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
    print("%-28s %14s %10s" % ("figure", "value", "target"))
    for key in sorted(results):
        if key == "peers":
            continue
        value = results[key]
        target = TARGETS.get(key)
        tgt = "%s %s" % target if target else ""
        print("%-28s %14s %10s" % (key, value, tgt))
    if "peers" in results:
        from peers import format_table  # bench/ is this script's own folder
        print()
        print("peers (bench/peers.py; same plant, scenarios and seed):")
        print(format_table(results["peers"]))
    print("written", os.path.relpath(path, ROOT))


if __name__ == "__main__":
    main()
