"""Speed of a whole simulated session: firmware tick, plant, trace and summary.

    .venv/bin/python -m simulator.bench_sim [duration_s]

Runs a 30-minute scenario (three decompression sessions at level 3, each
armed by a `program` event and begun by a press of START, heartbeats every
0.25 s) and prints one JSON object: ticks, wall seconds for the run, the
CSV formatting and the summary, ticks per second, and the realtime factor
(simulated seconds per wall second). `stub_firmware_*` repeats the run with
an App that does nothing, which is the simulator's own share of the cost
(plant, emulated board, runner loop, trace rows).
"""
import json
import sys
import time

from .runner import run
from .scenario import parse_scenario
from .summary import summarize
from .trace import format_csv

SESSION_EVERY_S = 600
START_AFTER_S = 1.5   # the START press, after the program is armed at t + 1 s


def bench_scenario(duration_s):
    # A `program` event only arms the program; the person's START on the
    # table begins it, so each session needs the press as well.
    events = []
    for t in range(0, int(duration_s) - 300, SESSION_EVERY_S):
        events.append({"t": t + 1.0, "do": "program", "name": "decompression"})
        events.append({"t": t + START_AFTER_S, "do": "press", "button": "start"})
    return parse_scenario({
        "name": "bench-%ds" % duration_s, "duration_s": duration_s, "seed": 1,
        "profile": {"level": 3, "age": 45, "preferred_angle": 60},
        "events": events})


class _StubCore:
    theta_mdeg = 0
    setpoint_mdeg = 0
    setpoint_rate_mdeg_s = 0
    setpoint_accel_mdeg_s2 = 0
    cap_mdeg = 60000
    state = "idle"
    duty_permille = 0
    brake_engaged = True
    heartbeat_ok = True
    fault = ""
    event = ""
    trigger_tick = False


class StubApp:
    """An App that reads nothing and decides nothing."""

    def __init__(self, board, devices, profile):
        self.core = _StubCore()

    def tick(self, dt_ms):
        pass

    def heartbeat(self, source):
        pass


def measure(sc, app_factory=None):
    t0 = time.perf_counter()
    result = run(sc, app_factory)
    t1 = time.perf_counter()
    format_csv(result.rows, result.tick_ms)
    t2 = time.perf_counter()
    summarize(result.rows, sc.board, result.tick_ms)
    t3 = time.perf_counter()
    ticks = int(round(sc.duration_s * 1000 / result.tick_ms)) + 1
    return {"ticks": ticks, "rows": len(result.rows), "run_s": round(t1 - t0, 3),
            "csv_s": round(t2 - t1, 3), "summary_s": round(t3 - t2, 3),
            "total_s": round(t3 - t0, 3)}


def main(argv):
    duration_s = int(argv[1]) if len(argv) > 1 else 1800
    sc = bench_scenario(duration_s)
    full = measure(sc)
    stub = measure(sc, StubApp)
    out = {
        "scenario": sc.name,
        "simulated_s": duration_s,
        "ticks": full["ticks"],
        "run_s": full["run_s"],
        "csv_s": full["csv_s"],
        "summary_s": full["summary_s"],
        "total_s": full["total_s"],
        "ticks_per_s": round(full["ticks"] / full["run_s"]),
        "realtime_factor": round(duration_s / full["total_s"], 1),
        "us_per_tick": round(full["run_s"] * 1e6 / full["ticks"], 2),
        "stub_firmware_run_s": stub["run_s"],
        "stub_firmware_us_per_tick": round(stub["run_s"] * 1e6 / stub["ticks"], 2),
        "python": sys.version.split()[0],
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main(sys.argv)
