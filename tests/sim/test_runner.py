"""The runner's loop against a scripted App (simhelp.FakeApp): timing of
events, heartbeats and commands, crashes, resets and power cycles."""
import sys

import simhelp  # noqa: F401  (repository on sys.path)
from simhelp import fake_factory, scenario

from simulator.runner import run, Runner
from simulator.trace import R_TICK, R_SC_EVENT


def _run(log, script=None, **kw):
    return run(scenario(**kw), fake_factory(log, script))


def _events(rows):
    return {r[R_TICK]: r[R_SC_EVENT] for r in rows if r[R_SC_EVENT]}


def test_one_row_per_tick_from_zero_to_the_end():
    log = []
    res = _run(log, duration_s=2)
    ticks = [r[R_TICK] for r in res.rows]
    assert ticks == list(range(201))
    assert [e[0] for e in log] .count("boot") == 1


def test_heartbeats_follow_the_period_and_the_on_off_events():
    log = []
    _run(log, duration_s=4, heartbeat={"source": "pendant", "period_s": 0.25},
         events=[{"t": 1.0, "do": "heartbeat", "state": "off"},
                 {"t": 2.05, "do": "heartbeat", "state": "on", "source": "host"}])
    beats = [(e[1], e[2]) for e in log if e[0] == "heartbeat"]
    # sent before the tick runs: at tick k the app has done k ticks
    assert beats[:5] == [("pendant", 0), ("pendant", 25), ("pendant", 50), ("pendant", 75),
                         ("host", 205)]
    assert beats[-1] == ("host", 380)


def test_no_heartbeats_with_source_none():
    log = []
    _run(log, heartbeat={"source": "none"})
    assert not [e for e in log if e[0] == "heartbeat"]


def test_press_holds_the_button_for_hold_s():
    log = []
    res = _run(log, events=[{"t": 1.0, "do": "press", "button": "stop", "hold_s": 0.2},
                            {"t": 2.0, "do": "press", "button": "up", "hold_s": None},
                            {"t": 3.0, "do": "release", "button": "up"}])
    ev = _events(res.rows)
    assert ev[100] == "press:stop"
    assert ev[120] == "release:stop"
    assert ev[200] == "press:up" and ev[300] == "release:up"
    assert len(ev) == 4


def test_program_results_are_recorded():
    log = []
    res = _run(log, events=[{"t": 0.5, "do": "program", "name": "good"},
                            {"t": 0.5, "do": "program", "name": "bad"}])
    assert _events(res.rows)[50] == "program:good; program:bad refused (no such program)"
    assert ("program", "good") in log and ("program", "bad") in log


def test_command_lines_go_to_host_line_and_replies_are_kept():
    log = []
    res = _run(log, events=[{"t": 1.0, "do": "command", "text": "A 1\nB,\"2\"\n"}])
    assert [e[1] for e in log if e[0] == "host_line"] == [b"A 1", b'B,"2"']
    assert _events(res.rows)[100] == 'command:A 1 -> ok\\n; command:B,"2" -> ok\\n'
    assert res.summary["commands"] == [{"t_s": 1.0, "via": "call", "sent": "A 1\nB,\"2\"\n",
                                        "reply": "ok\nok\n"}]


def test_command_bytes_are_latin1_so_any_byte_can_be_sent():
    log = []
    _run(log, events=[{"t": 1.0, "do": "command", "text": "\u0000\u00ff\u0080"}])
    assert [e[1] for e in log if e[0] == "host_line"] == [b"\x00\xff\x80"]


def test_uart_commands_travel_the_emulated_link_both_ways():
    log = []
    res = _run(log, duration_s=3,
               events=[{"t": 1.0, "do": "command", "text": "PING\n", "via": "uart"}])
    lines = [e for e in log if e[0] == "uart_line"]
    assert lines == [("uart_line", b"PING")]
    assert res.summary["commands"][0]["reply"] == "echo PING\n"
    assert res.summary["host_rx_bytes"] == len(b"echo PING\n")


def test_link_noise_corrupts_what_the_host_sends():
    log = []
    _run(log, duration_s=3, heartbeat={"source": "host", "period_s": 0.25},
         events=[{"t": 1.0, "do": "fault", "kind": "link_noise", "rate": 1.0},
                 {"t": 1.5, "do": "command", "text": "HELLO"},
                 {"t": 2.0, "do": "clear", "kind": "link_noise"}])
    sent = [e[1] for e in log if e[0] == "host_line"]
    assert len(sent) == 1 and len(sent[0]) == 5 and sent[0] != b"HELLO"
    beats = [e[2] for e in log if e[0] == "heartbeat"]
    assert not [k for k in beats if 100 <= k < 200]      # every heartbeat lost
    assert 200 in beats and 75 in beats


def _raise(exc):
    def act(app):
        raise exc
    return act


def test_a_firmware_exception_is_a_watchdog_reset_not_a_crash():
    log = []
    res = _run(log, duration_s=5, script={50: _raise(ZeroDivisionError("boom"))})
    ticks = [r[R_TICK] for r in res.rows]
    # tick 49 raised (the app's 50th tick); the board's watchdog_ms (1000) later it boots again
    assert 48 in ticks and 49 not in ticks and 148 not in ticks and 149 in ticks
    assert [e[0] for e in log].count("boot") == 4     # crashes again 50 ticks into each life
    assert _events(res.rows)[149] == ("firmware_exception:ZeroDivisionError (at 0.49 s); "
                                      "reset:watchdog")
    first = res.summary["resets"][0]
    assert first["cause"] == "firmware_exception:ZeroDivisionError"
    assert first["message"] == "boom" and first["t_s"] == 0.49 and first["reset_t_s"] == 1.49
    assert first["where"].startswith("test_runner.py:")
    # four crashes, the last too near the end to be reset
    assert len(res.summary["resets"]) == 4 and res.summary["reset_count"] == 3


def test_machine_reset_reboots_at_once():
    def reset(app):
        import machine
        machine.reset()

    log = []
    res = _run(log, duration_s=1, script={10: reset})
    ticks = [r[R_TICK] for r in res.rows]
    assert 9 not in ticks and 10 in ticks
    assert _events(res.rows)[10] == "reset:hard"


def test_a_tick_that_hangs_is_reset_by_the_watchdog():
    def hang(app):
        import time
        time.sleep_ms(5000)

    log = []
    res = _run(log, duration_s=3, script={10: hang})
    ticks = [r[R_TICK] for r in res.rows]
    # tick 9 hangs; the last feed was after tick 8 (80 ms), the watchdog (1000 ms)
    # resets the chip at 1.08 s and the next tick on the grid runs at 1.09 s
    assert 8 in ticks and 9 not in ticks and 108 not in ticks and 109 in ticks
    assert _events(res.rows)[109] == "reset:watchdog (at 1.08 s)"
    # every life hangs on its 10th tick: resets at 1.08, 2.17 (1.09 + 0.08 + 1.0), 3.26
    assert [r["t_s"] for r in res.summary["resets"]] == [1.08, 2.17, 3.26]


def test_the_runner_feeds_the_watchdog_like_main_py():
    log = []
    res = _run(log, duration_s=5)
    assert res.summary["resets"] == [] and len(res.rows) == 501


def test_power_cycle_stops_the_firmware_and_boots_a_new_one():
    log = []
    res = _run(log, duration_s=5, events=[{"t": 1.0, "do": "power_cycle", "off_s": 2.0},
                                          {"t": 2.0, "do": "program", "name": "good"}])
    ticks = [r[R_TICK] for r in res.rows]
    assert 99 in ticks and 100 not in ticks and 299 not in ticks and 300 in ticks
    ev = _events(res.rows)
    assert ev[300] == ("power_off (at 1.00 s); program:good (firmware not running) (at 2.00 s);"
                       " power_on")
    boots = [e[1] for e in log if e[0] == "boot"]
    assert len(boots) == 2 and boots[0] is not boots[1]
    assert res.summary["powered_at_end"] is True


def test_power_off_at_the_end_is_reported():
    log = []
    res = _run(log, duration_s=2, events=[{"t": 1.5, "do": "power_cycle", "off_s": 5}])
    assert res.summary["powered_at_end"] is False
    assert res.rows[-1][R_TICK] == 149


def test_each_boot_imports_the_firmware_afresh():
    seen = []

    def factory(board, devices, profile):
        seen.append(sys.modules["drivers.board_setup"])
        return fake_factory([])(board, devices, profile)

    run(scenario(duration_s=3, events=[{"t": 1, "do": "power_cycle", "off_s": 0.5}]), factory)
    assert len(seen) == 2 and seen[0] is not seen[1]


def test_a_firmware_that_cannot_boot_keeps_rebooting_without_raising():
    boots = []

    def factory(board, devices, profile):
        boots.append(1)
        raise ImportError("no module named app")

    res = run(scenario(duration_s=3), factory)
    assert res.rows == []
    assert len(boots) == 4     # at 0, 1, 2 and 3 s
    assert res.summary["final_state"] is None
    assert res.summary["resets"][0]["cause"] == "firmware_exception:ImportError"


def test_an_exception_in_a_request_is_a_crash_too():
    class Bad(simhelp.FakeApp):
        def start_program(self, name):
            raise KeyError(name)

    log = []
    res = run(scenario(duration_s=3, events=[{"t": 1, "do": "program", "name": "x"}]),
              lambda b, d, p: Bad(b, d, p, log, {}))
    assert res.summary["resets"][0]["cause"] == "firmware_exception:KeyError"
    assert res.summary["resets"][0]["during"] == "start_program"


def test_the_machine_time_and_firmware_modules_are_put_back():
    import time as real_time
    from simulator.runner import _firmware_modules
    before = sys.modules.get("machine")
    firmware_before = _firmware_modules()
    _run([], duration_s=0.5)
    assert sys.modules["time"] is real_time
    assert sys.modules.get("machine") is before
    assert _firmware_modules() == firmware_before


def test_a_second_press_sets_its_own_release():
    log = []
    res = _run(log, events=[{"t": 1.0, "do": "press", "button": "up", "hold_s": 2.0},
                            {"t": 1.5, "do": "press", "button": "up", "hold_s": 0.1}])
    ev = _events(res.rows)
    assert ev == {100: "press:up", 150: "press:up", 160: "release:up"}


def test_serve_style_advance_keeps_going_past_the_duration():
    log = []
    r = Runner(scenario(duration_s=1), fake_factory(log), record=False)
    r.open()
    try:
        r.advance(300)
    finally:
        r.close()
    assert r.k == 301 and r.rows == []


def test_an_app_without_the_telemetry_is_reported_not_raised():
    def factory(board, devices, profile):
        app = fake_factory([])(board, devices, profile)
        del app.core.trigger_tick
        return app

    res = run(scenario(duration_s=1), factory)
    first = res.summary["resets"][0]
    assert first["cause"] == "firmware_exception:AttributeError"
    assert "trigger_tick" in first["message"]


def test_an_exception_in_a_firmware_timer_callback_is_a_crash():
    def start_timer(app):
        import machine

        def bad(t):
            raise RuntimeError("in a callback")
        app.timer = machine.Timer(1)
        app.timer.init(period=50, mode=machine.Timer.PERIODIC, callback=bad)

    res = _run([], duration_s=3, script={1: start_timer})
    first = res.summary["resets"][0]
    assert first["cause"] == "firmware_exception:RuntimeError"
    assert first["during"] == "timer callback" and first["t_s"] == 0.05
    assert first["reset_t_s"] == 1.05    # last fed after tick 4 (40 ms), + 1000 ms
