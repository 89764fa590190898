"""A scenario's closed loop (firmware + plant) that runs on CPython and on
the MicroPython VM alike, printing one line per tick.

    python -m simulator.closed_loop SCENARIO.json
    micropython -m simulator.closed_loop SCENARIO.json      (from the repo root)

The full runner (simulator/runner.py) is CPython-only (it validates scenarios,
writes CSV, recovers from crashes); this is the same loop pared down to the
events a session needs (program, press, release, heartbeat, arms) so that the
two VMs can be compared tick by tick: simulator/vm_compare.py does that.
Each line: tick, true theta (deg, 6 decimals), estimate (mdeg), setpoint
(mdeg), duty (permille), state.
"""
import json
import sys

from . import machine as sim_machine
from .plant import Plant

FIRMWARE = "firmware"
TICK_MS = 10


def run(path, out):
    with open(path) as f:
        scenario = json.load(f)
    board_name = scenario.get("board", "esp32-devkitc-actuator")
    with open("boards/" + board_name + ".json") as f:
        board = json.load(f)
    plant = Plant(board, scenario.get("person"), scenario.get("seed", 0))
    sim_machine.install(plant.emul)
    if FIRMWARE not in sys.path:
        sys.path.insert(0, FIRMWARE)
    from drivers.board_setup import setup_board
    from app import App
    app = App(board, setup_board(board), scenario.get("profile"))
    hb = scenario.get("heartbeat", {})
    source = hb.get("source", "host")
    period_ticks = int(hb.get("period_s", 0.25) * 1000) // TICK_MS
    beating = source != "none"
    events = []
    for e in scenario.get("events", []):
        tick = int(e["t"] * 1000 + 0.5) // TICK_MS
        events.append((tick, e))
        if e["do"] == "press":
            release = tick + int(e.get("hold_s", 0.1) * 1000 + 0.5) // TICK_MS
            events.append((release, {"do": "release", "button": e["button"]}))
    events.sort(key=lambda x: x[0])
    ticks = int(scenario["duration_s"] * 1000) // TICK_MS
    i = 0
    core = app.core
    for k in range(ticks):
        while i < len(events) and events[i][0] <= k:
            e = events[i][1]
            do = e["do"]
            if do == "program":
                app.start_program(e["name"])
            elif do == "press":
                plant.press(e["button"])
            elif do == "release":
                plant.release(e["button"])
            elif do == "heartbeat":
                beating = e["state"] == "on"
            elif do == "arms":
                plant.set_arms(e["position"] == "up")
            i += 1
        if beating and k % period_ticks == 0:
            app.heartbeat(source)
        plant.step(TICK_MS)
        plant.emul.advance(TICK_MS)
        app.tick(TICK_MS)
        out.write("%d %.6f %d %d %d %s\n" % (k, plant.theta_deg, core.theta_mdeg,
                                              core.setpoint_mdeg, core.duty_permille, core.state))


if __name__ == "__main__":
    run(sys.argv[1], sys.stdout)
