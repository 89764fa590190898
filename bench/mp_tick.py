"""Tick cost and allocation of the firmware core, on the MicroPython VM.

Runs the core against a tiny kinematic table (the bed turns at 12 deg/s per
full duty) through a whole program, a STOP and the emergency return, timing
each core.tick with ticks_us and counting the heap it takes with
gc.mem_alloc(). Then runs pystone in the same VM. Prints one JSON line.
Run from the repository root: micropython bench/mp_tick.py
"""
import sys
sys.path.insert(0, "firmware")
sys.path.insert(0, "bench")
import gc
import json
import math
import time

from core import Core
from control.actuator_ctl import build_ff_table
from safety.limits import compute_limits
from session import programs
import pystone

DEBUG = "-v" in sys.argv


def main():
    with open("boards/esp32-devkitc-actuator.json") as f:
        board = json.load(f)
    limits = compute_limits({"level": 3, "preferred_angle": 60}, board)
    ff = build_ff_table(board["position_sensor"]["cal"], board["actuator"]["rate_deg_s_full_duty"])
    core = Core(board, limits, ff)
    inp = core.inputs
    inp.stop = False
    theta = -70.0
    rate = 0.0
    costs = []
    alloc = 0
    ticks = 0
    steps = programs.builtin("decompression", limits)
    gc.collect()
    for k in range(24000):
        if k == 100:
            core.start_steps(steps)
        if k == 15000:
            inp.stop = True
        if k == 15050:
            inp.stop = False
        if k % 25 == 0:
            core.heartbeat(False)
        r = math.radians(theta)
        inp.imu_ok = True
        inp.along_mg = int(-1000 * math.sin(r))
        inp.normal_mg = int(1000 * math.cos(r))
        inp.rate_mdeg_s = int(rate * 1000)
        inp.position_ok = True
        inp.position_mdeg = int(theta * 1000)
        a0 = gc.mem_alloc()
        t0 = time.ticks_us()
        core.tick(10)
        t1 = time.ticks_us()
        a1 = gc.mem_alloc()
        if k >= 200:
            costs.append(time.ticks_diff(t1, t0))
            if a1 != a0:
                alloc += a1 - a0 if a1 > a0 else 1
                if DEBUG:
                    print("alloc", k, core.state, a1 - a0)
            ticks += 1
        rate = core.duty_permille * 12 / 1000
        theta += rate * 0.01
    costs.sort()
    median_us = costs[len(costs) // 2]
    p99_us = costs[len(costs) * 99 // 100]
    _, stones = pystone.pystones(20000)
    print(json.dumps({"tick_us_mpvm": median_us, "tick_us_p99_mpvm": p99_us,
                      "pystones_per_s_mpvm": int(stones),
                      "tick_alloc_bytes": alloc // ticks, "ticks": ticks,
                      "final_state": core.state}))


main()
