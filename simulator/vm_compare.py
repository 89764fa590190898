"""Run one scenario's closed loop on CPython and on the MicroPython VM and
compare the two traces tick by tick. Prints one JSON line with
mpvm_trace_max_diff_deg (the largest true-angle difference), the tick counts
and where the largest difference occurred.

    python -m simulator.vm_compare [SCENARIO.json]
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MICROPYTHON = os.path.join(ROOT, ".venv", "bin", "micropython")
DEFAULT = os.path.join("scenarios", "stop-at-60.json")


def trace(cmd):
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError("%s failed: %s" % (cmd[0], out.stderr.strip()[-500:]))
    return [line.split() for line in out.stdout.splitlines() if line.strip()]


def compare(scenario=DEFAULT):
    args = ["-m", "simulator.closed_loop", scenario]
    cp = trace([sys.executable] + args)
    mp = trace([MICROPYTHON, "-X", "heapsize=4M"] + args)
    worst = 0.0
    worst_tick = 0
    states_differ = 0
    for a, b in zip(cp, mp):
        d = abs(float(a[1]) - float(b[1]))
        if d > worst:
            worst = d
            worst_tick = int(a[0])
        if a[5] != b[5]:
            states_differ += 1
    return {"mpvm_trace_max_diff_deg": round(worst, 6), "mpvm_ticks": len(mp),
            "cpython_ticks": len(cp), "mpvm_worst_tick": worst_tick,
            "mpvm_state_mismatches": states_differ, "mpvm_scenario": scenario}


if __name__ == "__main__":
    print(json.dumps(compare(sys.argv[1] if len(sys.argv) > 1 else DEFAULT)))
