"""`python -m simulator run` end to end with the real firmware, and the
runner's promise that no valid scenario makes it raise."""
import csv
import json
import os

from hypothesis import HealthCheck, given, settings, strategies as st

from simhelp import SCENARIOS, cli, scenario

from simulator.bench_sim import StubApp, bench_scenario, measure
from simulator.runner import run
from simulator.scenario import BUTTONS, FAULT_KINDS

CONTRACT_SUMMARY = ("max_theta_deg", "max_over_cap_deg", "longest_hold_s", "inverted_s",
                    "final_state", "emergencies")


def test_run_writes_trace_summary_and_plot(tmp_path):
    trace, summary, png = (tmp_path / n for n in ("t.csv", "s.json", "p.png"))
    out = cli("run", os.path.join(SCENARIOS, "stop-at-60.json"), "--trace", str(trace),
              "--summary", str(summary), "--plot", str(png))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("stop-at-60 on esp32-devkitc-actuator: 140.0 s simulated")
    s = json.loads(summary.read_text())
    assert set(CONTRACT_SUMMARY) <= set(s)
    assert set(s["longest_hold_s"]) == {"0-30", "30-60", "60-90"}
    for e in s["emergencies"]:
        assert {"trigger", "t_s", "response_s", "home_s"} <= set(e)
    with open(trace) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == s["ticks"]
    assert float(rows[-1]["t_s"]) == 140.0
    assert {r["state"] for r in rows} <= {"boot", "idle", "moving", "holding", "paused", "jog",
                                          "returning", "emergency_return", "halted"}
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_an_output_folder_that_does_not_exist_is_refused(tmp_path):
    out = cli("run", os.path.join(SCENARIOS, "stop-at-60.json"), "--trace",
              str(tmp_path / "no" / "t.csv"))
    assert out.returncode == 2 and out.stderr.startswith("error: ")
    assert len(out.stderr.splitlines()) == 1


def test_the_simulators_own_cost_per_tick_stays_small():
    # the runner loop, plant and trace rows with a firmware that does nothing;
    # measured ~2.3 us per tick, bound at 5x for slow machines
    m = measure(bench_scenario(300), StubApp)
    assert m["run_s"] * 1e6 / m["ticks"] < 12.0


_t = st.floats(min_value=0, max_value=12, allow_nan=False)
_event = st.one_of(
    st.builds(lambda t, b, h: {"t": t, "do": "press", "button": b, "hold_s": h}, _t,
              st.sampled_from(BUTTONS), st.one_of(st.none(), st.floats(0, 3))),
    st.builds(lambda t, b: {"t": t, "do": "release", "button": b}, _t, st.sampled_from(BUTTONS)),
    st.builds(lambda t, n: {"t": t, "do": "program", "name": n}, _t,
              st.sampled_from(["beginner", "decompression", "warm-up", "full-inversion", "x"])),
    st.builds(lambda t, s: {"t": t, "do": "heartbeat", "state": s}, _t,
              st.sampled_from(["on", "off"])),
    st.builds(lambda t, k: {"t": t, "do": "fault", "kind": k}, _t, st.sampled_from(FAULT_KINDS)),
    st.builds(lambda t, k: {"t": t, "do": "clear", "kind": k}, _t, st.sampled_from(FAULT_KINDS)),
    st.builds(lambda t, o: {"t": t, "do": "power_cycle", "off_s": o}, _t, st.floats(0, 2)),
    st.builds(lambda t, x: {"t": t, "do": "command", "text": x}, _t, st.text(max_size=40)),
    st.builds(lambda t, p: {"t": t, "do": "arms", "position": p}, _t,
              st.sampled_from(["up", "down"])),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(_event, max_size=12),
       board=st.sampled_from(["esp32-devkitc-actuator", "esp32s3-brake"]),
       level=st.integers(0, 4), seed=st.integers(0, 1000))
def test_no_valid_scenario_makes_the_runner_raise(events, board, level, seed):
    events = sorted(events, key=lambda e: e["t"])
    sc = scenario(duration_s=12, board=board, seed=seed, events=events,
                  profile={"level": level, "preferred_angle": 60,
                           "full_inversion": level == 4})
    res = run(sc)
    assert res.summary["ticks"] == len(res.rows)
