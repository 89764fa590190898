"""The host link in a closed loop: the real App on the simulated plant, each
command through App.host_line or the host UART, and what it does to the
table. Refusals of every class leave the App exactly as it was."""
import json

import pytest

from linkrig import KEY, OTHER_KEY, LinkRig
from host_tools import protocol

PROFILE = {"level": 3, "preferred_angle": 60, "age": 45}


def idle_rig(profile=PROFILE, **kw):
    rig = LinkRig(profile=profile, **kw)
    rig.run_until(lambda r: r.core.state == "idle", 300)
    rig.received()
    return rig


def holding_rig():
    rig = idle_rig({"level": 3, "preferred_angle": 20, "rate_deg_s": 6})
    rig.start("beginner")
    rig.run_until(lambda r: r.core.state == "holding", 6000)
    return rig


def snapshot(rig):
    """Everything a host command could change."""
    app, core, link = rig.app, rig.core, rig.app.link
    seq, sup = core.sequencer, core.supervisor
    return (json.dumps(app.profile, sort_keys=True), app.auth_counter,
            sorted((k, repr(v)) for k, v in vars(app.limits).items()),
            core.state, seq.state, seq.index, seq.steps is None, sup.action, sup.alarm,
            core._heartbeat_seen, core._pendant_seen, core._ack, core._pending_event,
            core.inputs.stop, core.inputs.up, core.inputs.down,
            link._stop_latched, link._jog_ms, link.telemetry_on, link.unix_time(),
            link._pull_lines is None)


def signed(rig, text, counter, key=None):
    return rig.signed(text, counter, key)


# Every class of refusal, with the ERR code it must give.
def bad_lines(rig):
    f = lambda text: rig.frame(text).rstrip(b"\n")  # noqa: E731
    good_status = f("STATUS")
    ctr = rig.app.auth_counter
    return [
        (b"\x00\xff\xfe\x07\x1b[2J", "frame"),
        (b"binary \x80\x81 junk", "frame"),
        (b"FLY 90", "frame"),
        (b"SET cap_deg 90", "frame"),
        (b'{"cmd": "start", "program": ', "frame"),
        (b"0123456789" * 30, "toolong"),
        (good_status[:-1] + (b"0" if good_status[-1:] != b"0" else b"1"), "crc"),
        (f("STATUS").replace(b"STATUS", b"STATUZ"), "crc"),
        (b"7 RUN beginner *0000", "crc"),
        (f("FLY 90"), "verb"),
        (f("GOTO -70"), "verb"),
        (f("HELLO there"), "args"),
        (f("STATUS now"), "args"),
        (f("HB host"), "args"),
        (f("RUN"), "args"),
        (f("RUN a b"), "args"),
        (f("JOG"), "args"),
        (f("JOG SIDEWAYS"), "args"),
        (f("JOG UP  "), "args"),
        (f("PAUSE 1"), "args"),
        (f("ACK now"), "args"),
        (f("PROFILE"), "args"),
        (f('PROFILE SET {"level":4}'), "args"),
        (f('PROFILE SET {"level":4} CTR=5'), "args"),
        (f('PROFILE SET {"level":4} CTR=0 MAC=' + "00" * 32), "args"),
        (f('PROFILE SET {"level":4} CTR=5 MAC=' + "0" * 63), "args"),
        (f("LOGS"), "args"),
        (f("LOGS PULL"), "args"),
        (f("LOGS PULL 0 x"), "args"),
        (f("TIME SET"), "args"),
        (f("TIME SET -5"), "args"),
        (f("TIME SET 1e9"), "args"),
        (f("TELEM MAYBE"), "args"),
        (f("CAL"), "args"),
        (f("RUN fly-to-the-moon"), "state"),
        (f(signed(rig, 'PROFILE SET {"level":4,"full_inversion":true}', ctr + 1, OTHER_KEY)),
         "auth"),
        (f('PROFILE SET {"level":4} CTR=%d MAC=%s' % (ctr + 1, "ab" * 32)), "auth"),
        (f(signed(rig, 'PROFILE SET {"level":4}', ctr + 1).replace("level", "levex")), "auth"),
        (f(signed(rig, 'PROFILE SET {"level":4', ctr + 1)), "value"),
        (f(signed(rig, 'PROFILE SET [4]', ctr + 1)), "value"),
        (f(signed(rig, 'PROFILE SET {"level":9}', ctr + 1)), "value"),
        (f(signed(rig, 'PROFILE SET {"level":"4"}', ctr + 1)), "value"),
        (f(signed(rig, 'PROFILE SET {"cap_deg":NaN}', ctr + 1)), "value"),
        (f(signed(rig, 'PROFILE SET {"cap_deg":1e999}', ctr + 1)), "value"),
        (f(signed(rig, 'PROFILE SET {"rate_deg_s":60}', ctr + 1)), "value"),
        (f(signed(rig, 'PROFILE SET {"full_inversion":1}', ctr + 1)), "value"),
        (f(signed(rig, 'PROFILE SET {"contraindications":["fun"]}', ctr + 1)), "value"),
        (f(signed(rig, 'PROFILE SET {"cap":90}', ctr + 1)), "value"),
        (f("TIME SET 12"), "value"),
        (f("LOGS PULL 9"), "value"),
        # At home the bed is far from level: zeroing there would shift every angle.
        (f(signed(rig, "CAL LEVEL", ctr + 1)), "state"),
    ]


@pytest.mark.parametrize("where", ["idle", "holding"])
def test_every_refusal_changes_nothing(where):
    rig = idle_rig() if where == "idle" else holding_rig()
    assert rig.call("TIME SET 1780000000").ok      # so that going back is refused
    for line, code in bad_lines(rig):
        if where == "holding" and code == "value" and b"PROFILE SET" in line:
            # Busy: a signed PROFILE SET is refused before its profile is read.
            code = "state"
        before = snapshot(rig)
        reply = rig.call_raw(line)
        assert reply, line
        msg = protocol.parse_line(reply)
        assert msg.kind == "ERR" and msg.code == code, (line, msg)
        assert snapshot(rig) == before, line
        rig.run(2)
    assert rig.app.link.errors == 0


def test_refusals_while_busy_and_replays_change_nothing():
    rig = holding_rig()
    for text, code in [("RUN beginner", "state"),
                       (signed(rig, 'PROFILE SET {"level":1}', 1), "state"),
                       ("JOG UP", "state")]:
        before = snapshot(rig)
        msg = rig.call(text)
        assert (msg.kind, msg.code) == ("ERR", code), (text, msg)
        assert snapshot(rig) == before


def test_blank_lines_get_no_reply_and_unreadable_seq_gets_question_mark():
    rig = idle_rig()
    for blank in (b"", b"\r", b"   "):
        assert rig.call_raw(blank) is None
    msg = protocol.parse_line(rig.call_raw(b"xyz STATUS *0000"))
    assert (msg.seq, msg.code) == ("?", "frame")


# -- STOP ----------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["framed", "framed-with-args", "bare", "uart"])
def test_stop_is_an_emergency_return_home_and_never_restarts(how):
    rig = holding_rig()
    assert rig.core.theta_mdeg > 15000
    if how == "framed":
        assert rig.call("STOP").ok
    elif how == "framed-with-args":
        assert rig.call("STOP please now").ok
    elif how == "bare":
        assert protocol.parse_line(rig.call_raw(b"stop\r")).ok
    else:
        rig.send_uart("STOP")
    rig.tick()
    assert rig.core.state == "emergency_return"
    assert rig.core.event == "stop" or rig.core.supervisor.reason == "stop"
    rig.run_until(lambda r: r.core.state == "idle", 3000)
    assert rig.core.brake_engaged
    assert abs(rig.core.theta_mdeg - rig.app.limits.home_mdeg) < 2000
    rig.run(500)             # the host STOP is released: nothing restarts
    assert rig.core.state == "idle"
    assert not rig.app.link._stop_latched


def test_stop_while_paused_and_during_jog():
    rig = holding_rig()
    assert rig.call("PAUSE").ok
    rig.run(5)
    assert rig.core.state == "paused"
    assert rig.call("STOP").ok
    rig.tick()
    assert rig.core.state == "emergency_return"
    rig.run_until(lambda r: r.core.state == "idle", 3000)
    assert rig.call("ACK").ok
    rig.run(10)
    rig.call("JOG UP")
    rig.run(5)
    assert rig.core.state == "jog"
    assert rig.call("STOP").ok
    assert rig.call("JOG UP").code == "state"
    rig.tick()
    assert rig.core.state == "emergency_return"


def test_stop_then_run_in_one_batch_does_not_start():
    rig = idle_rig()
    rig.uart.host_write(rig.frame("STOP") + rig.frame("RUN beginner"))
    rig.uart.flush_instant()
    rig.run(10)
    replies = [m for m in rig.received() if m.kind in ("OK", "ERR")]
    assert [(m.kind, m.code) for m in replies] == [("OK", ""), ("ERR", "state")]
    rig.run(200)
    assert rig.core.state in ("emergency_return", "idle")
    assert rig.core.sequencer.state == "idle"


def test_stop_during_boot_is_pressed_once_the_boot_checks_end():
    rig = LinkRig(profile=PROFILE)
    rig.run(3)
    assert rig.core.state == "boot"
    assert rig.call("RUN beginner").ok             # arming during boot is allowed
    assert rig.call("STOP").ok
    rig.run_until(lambda r: r.core.state == "emergency_return", 400)
    assert rig.core.supervisor.reason == "stop"
    assert not rig.core.sequencer.armed            # the STOP disarmed the program
    rig.run_until(lambda r: r.core.state == "idle", 3000)
    rig.run(100)
    assert not rig.app.link._stop_latched and not rig.core.inputs.stop


# -- jog -------------------------------------------------------------------------------

def test_host_jog_is_hold_to_run_and_stops_within_half_a_second():
    rig = idle_rig({"level": 3, "age": 45, "cap_deg": 5})
    start = rig.core.theta_mdeg
    for _ in range(20):                     # 2 s of JOG UP, every 100 ms
        assert rig.call("JOG UP").ok
        last_jog = rig.ticks
        rig.run(10)
    assert rig.core.state == "jog"
    assert rig.core.theta_mdeg > start + 1000
    # The last JOG went in 100 ms ago. Within its 250 ms the jog is released...
    rig.run_until(lambda r: r.core.state != "jog", 16)
    assert (rig.ticks - last_jog) * 10 <= 260
    # ...and by 0.5 s after it the table has all but stopped (the core's
    # jerk-limited stop leaves a tail of hundredths of a degree).
    rig.run(last_jog + 50 - rig.ticks)
    at_half_s = rig.plant.theta_deg
    rig.run(100)
    assert abs(rig.plant.theta_deg - at_half_s) < 0.15
    assert rig.core.setpoint_rate_mdeg_s == 0
    assert rig.core.state == "idle"
    assert abs(rig.plant.rate_deg_s) < 0.05


def test_host_jog_never_passes_the_cap():
    rig = idle_rig({"level": 3, "age": 45, "cap_deg": 5})
    peak = -1e9
    for _ in range(1000):                   # 100 s of JOG UP: far past the cap
        rig.call("JOG UP")
        for _ in range(10):
            rig.tick()
            peak = max(peak, rig.plant.theta_deg)
    assert peak <= 5 + 1.0


def test_jog_down_and_refused_during_a_program():
    rig = idle_rig()
    assert rig.call("JOG DOWN").ok
    rig.run(5)
    assert rig.core.state == "jog"
    rig.run(60)
    assert rig.core.state == "idle"
    rig.start("beginner")
    rig.run(5)
    msg = rig.call("JOG UP")
    assert (msg.kind, msg.code) == ("ERR", "state")


# -- commands ----------------------------------------------------------------------------

def test_hello_status_and_heartbeat():
    rig = idle_rig(heartbeat_every=0)
    hello = rig.call("HELLO")
    f = hello.fields
    assert hello.ok and f["proto"] == "1" and f["board"] == "esp32-devkitc-actuator"
    assert f["key"] == "1"
    rig.run(150)
    assert not rig.core.heartbeat_ok
    for _ in range(10):
        assert rig.call("HB").ok
        rig.run(25)
    assert rig.core.heartbeat_ok
    st = rig.call("STATUS").fields
    assert st["st"] == "idle" and st["hb"] == "1" and st["lvl"] == "3" and st["ctr"] == "0"
    assert float(st["ang"]) == pytest.approx(-70, abs=1)
    assert rig.call("HB pendant").ok
    assert rig.core._pendant_seen


def test_run_pause_resume_ack():
    rig = idle_rig()
    msg = rig.call("RUN beginner")
    assert msg.ok and msg.text.startswith("program=beginner ")
    rig.run(20)
    assert rig.core.state == "idle"                 # armed: START on the table begins it
    before = snapshot(rig)
    msg = rig.call("PAUSE")                         # the host cannot start the motion
    assert (msg.kind, msg.code) == ("ERR", "state") and "START" in msg.text
    assert snapshot(rig) == before
    rig.press("start")
    rig.run(100)
    assert rig.core.state == "moving"
    assert rig.call("PAUSE").text == "paused"
    rig.run(5)
    assert rig.core.state == "paused"
    assert rig.call("PAUSE").text == "resumed"
    rig.run(5)
    assert rig.core.state == "moving"
    assert rig.call("STOP").ok
    rig.run(5)
    assert rig.core.supervisor.alarm
    assert rig.call("ACK").ok
    rig.tick()
    assert not rig.core.supervisor.alarm


def test_profile_set_with_the_key_then_replay_and_wrong_key_are_refused():
    rig = idle_rig()
    assert rig.call("PROFILE GET").text == json.dumps(PROFILE)
    new = {"level": 1, "age": 45, "hold_s": 60, "contraindications": ["vertigo"],
           "override_cap_deg": 20}
    text = "PROFILE SET " + json.dumps(new, separators=(",", ":"))
    msg = rig.call(rig.signed(text, 5))
    assert msg.ok, msg
    assert msg.fields["ctr"] == "5" and msg.fields["cap"] == "20.000"
    assert rig.app.auth_counter == 5
    assert rig.app.profile["contraindications"] == ["vertigo"]
    assert rig.app.limits.cap_mdeg == 20000 and rig.core.supervisor.limits is rig.app.limits
    before = snapshot(rig)
    for line in (rig.signed(text, 5), rig.signed(text, 4), rig.signed(text, 6, OTHER_KEY)):
        msg = rig.call(line)
        assert (msg.kind, msg.code) == ("ERR", "auth"), msg
        assert snapshot(rig) == before
    assert "stale" in rig.call(rig.signed(text, 5)).text
    assert rig.call(rig.signed("PROFILE SET {}", 6)).ok       # {}: beginner defaults
    assert rig.app.limits.cap_mdeg == 30000


def test_profile_set_needs_a_key_on_the_board():
    rig = idle_rig(key=None)        # the rig's cwd has no device_key.bin
    assert rig.call("HELLO").fields["key"] == "0"
    msg = rig.call(protocol.sign("PROFILE SET {}", 1, KEY))
    assert (msg.kind, msg.code) == ("ERR", "auth") and "no device key" in msg.text


def test_cal_level_is_signed_and_only_at_rest():
    rig = idle_rig()
    calls = []
    rig.app.calibrate_level = lambda: (calls.append(1), (True, "level recorded"))[1]
    assert rig.call(rig.signed("CAL LEVEL", 3, OTHER_KEY)).code == "auth"
    assert calls == []
    assert rig.call(rig.signed("CAL LEVEL", 3)).ok
    assert calls == [1] and rig.app.auth_counter == 3
    assert rig.call(rig.signed("CAL LEVEL", 3)).code == "auth"
    rig.start("beginner")
    rig.run(300)
    assert rig.call(rig.signed("CAL LEVEL", 4)).code == "state"
    assert calls == [1]


def test_time_only_moves_forward():
    rig = idle_rig()
    assert rig.call("STATUS").fields["time"] == "0"
    assert rig.call("TIME SET 1780000000").ok
    rig.run(250)
    assert rig.app.link.unix_time() in (1780000002, 1780000003)   # 2.5 s, phase of the second
    assert rig.call("TIME SET 1780000001").code == "value"
    assert rig.call("TIME SET 1790000000").ok


def test_logs_list_and_pull_stream_every_line():
    rig = idle_rig()
    lines = ["t_s,event"] + ["%d.0,line %d with, commas" % (i, i) for i in range(300)]
    rig.app.log_index = lambda: [("0", len(lines))]
    rig.app.log_lines = lambda log_id: lines if log_id == "0" else []
    assert rig.call("LOGS LIST").text == "logs=1 0:301"
    msg = rig.call("LOGS PULL 0", seq=900)
    assert msg.ok and msg.fields["lines"] == "301"
    got = []
    end = None
    for _ in range(2000):
        rig.tick()
        for m in rig.received():
            if m.seq == 900 and m.kind == "L":
                idx, _, text = m.text.partition(" ")
                got.append((int(idx), text))
            elif m.seq == 900 and m.kind == "END":
                end = m.text
        if end:
            break
    assert end == "301"
    assert [t for _, t in got] == lines and [i for i, _ in got] == list(range(301))
    assert rig.dev.hostlink.tx_short_count == 0
    rig.call("LOGS PULL 0 299", seq=901)
    rig.run(20)
    tail = [m.text for m in rig.received() if m.seq == 901]
    assert tail == ["299 " + lines[299], "300 " + lines[300], "301"]


def test_logs_without_a_logger():
    rig = idle_rig()
    assert rig.call("LOGS LIST").text == "logs=0"
    msg = rig.call("LOGS PULL 0", seq=77)
    assert msg.code == "value" and msg.text == "no log 0"


# -- telemetry and events over the UART ---------------------------------------------------

def test_telemetry_at_ten_hertz_with_every_field():
    rig = idle_rig()
    rig.start("beginner")
    tele = []
    for _ in range(1000):           # 10 s
        rig.tick()
        tele += [m for m in rig.received() if m.kind == "T"]
    assert len(tele) >= 99
    ns = [protocol.telemetry(m)["n"] for m in tele]
    assert all(b == (a + 1) % 100000 for a, b in zip(ns, ns[1:]))
    t = protocol.telemetry(tele[-1])
    assert set(t) >= {"ang", "sp", "cap", "hold", "trac", "hb", "brk", "al", "st", "f"}
    assert t["st"] == "moving" and t["hb"] == 1
    # at most a telemetry period (0.1 s at 6 deg/s) and the line's transit behind
    assert t["ang"] == pytest.approx(rig.core.theta_mdeg / 1000, abs=1.0)
    assert len({len(m.raw) for m in tele}) == 1       # fixed width
    assert rig.dev.hostlink.tx_short_count == 0


def test_traction_in_telemetry_is_sin_theta():
    rig = holding_rig()                 # holding at 20 degrees
    rig.run(20)
    t = [protocol.telemetry(m) for m in rig.received() if m.kind == "T"][-1]
    assert t["trac"] == pytest.approx(0.34, abs=0.015)
    st = rig.call("STATUS").fields
    assert float(st["trac"]) == pytest.approx(0.34, abs=0.015)


def test_events_for_state_changes_alarms_and_cues():
    rig = idle_rig()
    rig.start("warm-up")
    rig.run(300)
    assert rig.call("STOP").ok
    rig.run(10)
    rig.call("ACK")
    rig.run(10)
    ev = [m.text for m in rig.received() if m.kind == "EV"]
    assert "note program_ready" in ev              # RUN armed it
    assert ev.index("note program_ready") < ev.index("state moving from=idle why=-")   # START
    assert "cue swing 1 of 10" in ev
    assert "state emergency_return from=moving why=stop" in ev
    assert "alarm stop" in ev
    assert "alarm_clear" in ev


def test_oversize_and_noise_over_the_uart():
    rig = idle_rig()
    rig.uart.host_write(b"x" * 600 + b"\n" + b"\xff\xfe\n" + b"\n")
    rig.uart.flush_instant()
    rig.run(5)
    errs = [(m.seq, m.code) for m in rig.received() if m.kind == "ERR"]
    assert errs == [("?", "frame"), ("?", "toolong")] or errs == [("?", "toolong"), ("?", "frame")]
    assert rig.dev.hostlink.oversize_count == 1


def test_a_flood_of_noise_never_outruns_the_uart():
    rig = idle_rig()
    tele = 0
    for _ in range(300):                        # 3 s of noise at the poll's limit
        rig.uart.host_write(b"zz\n" * 100)
        rig.uart.flush_instant()
        rig.tick()
        tele += len([m for m in rig.received() if m.kind == "T"])
    assert tele >= 29                           # telemetry keeps its 10 Hz
    assert rig.dev.hostlink.tx_short_count == 0
    assert rig.app.link.tx_dropped > 0          # noise replies were dropped, not queued
    rig.run(100)
    assert [m for m in rig.received() if m.kind == "T"]      # telemetry still flows
    assert rig.core.state == "idle" and rig.app.link.errors == 0


def test_telem_off_and_on():
    rig = idle_rig()
    assert rig.call("TELEM OFF").ok
    rig.run(5)
    rig.received()          # a line already on the wire
    rig.run(50)
    assert not [m for m in rig.received() if m.kind == "T"]
    assert rig.call("TELEM ON").ok
    rig.run(50)
    assert [m for m in rig.received() if m.kind == "T"]
