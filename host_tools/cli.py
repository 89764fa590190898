"""invertctl: the PC side of the inversion-table controller.

    invertctl [--port PORT] COMMAND ...      (python -m host_tools works too)

Every failure is one line on stderr and a non-zero exit status, never a
traceback: 1 for a refusal or a link problem, 2 for a usage error, 130 when
Ctrl-C ended a run or a jog (after the STOP was sent).
"""
import argparse
import csv
import json
import os
import signal
import sys
import tempfile
import time

from . import deploy as deploy_mod
from . import display, keys, plotting, profile_edit, protocol
from .link import CommandError, Link, LinkError, resolve_port
from .profile_edit import DELETE as _DELETE, parse_assignment  # noqa: F401 (_DELETE: "KEY=")

PROG = "invertctl"
HEARTBEAT_S = 0.25
JOG_REPEAT_S = 0.1
ACTIVE_STATES = ("moving", "holding", "paused", "jog", "returning", "emergency_return")
RECORD_COLUMNS = ("t_s", "theta_deg", "setpoint_deg", "cap_deg", "state", "hold_s",
                  "traction", "heartbeat_ok", "brake", "alarm", "fault")


class Interrupted(Exception):
    pass


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def connect(args):
    link = Link.open(args.port, args.baud)
    try:
        info = link.hello(timeout=args.timeout)
    except BaseException:
        link.close()
        raise
    return link, info


def heartbeat_period(link):
    """A quarter of the board's heartbeat timeout, at most 250 ms."""
    try:
        hbto_ms = int(link.status().get("hbto", 1000))
    except (ValueError, LinkError):
        hbto_ms = 1000
    return min(HEARTBEAT_S, hbto_ms / 4000.0)


def describe(ev):
    return "event: " + ev.text


# -- commands ---------------------------------------------------------------------------

def cmd_ports(args):
    try:
        from serial.tools import list_ports
    except ImportError:
        raise LinkError("pyserial is not installed (pip install pyserial)") from None
    ports = sorted(list_ports.comports(), key=lambda p: p.device)
    if not ports:
        print("no serial ports found")
        return 0
    for p in ports:
        print("%-24s %s" % (p.device, p.description or ""))
    return 0


def cmd_status(args):
    link, info = connect(args)
    try:
        f = link.status()
    finally:
        link.close()
    if args.json:
        print(json.dumps({"board": info, "status": f}, indent=1, sort_keys=True))
        return 0
    print("board     %s  firmware %s  protocol %s  device key %s"
          % (info.get("board"), info.get("fw"), info.get("proto"),
             "yes" if info.get("key") == "1" else "NO"))
    print("state     %s%s" % (f.get("st"), "   (last action: %s)" % f["why"]
                              if f.get("why", "-") != "-" else ""))
    print("angle     %s deg   setpoint %s   cap %s" % (f.get("ang"), f.get("sp"), f.get("cap")))
    print("hold      %s s left   traction %s of body weight"
          % (f.get("hold"), f.get("trac")))
    print("heartbeat %s (timeout %s ms)   brake %s   alarm %s   fault %s"
          % ("ok" if f.get("hb") == "1" else "none", f.get("hbto"),
             "on" if f.get("brk") == "1" else "off", "YES" if f.get("al") == "1" else "no",
             f.get("f")))
    print("profile   level %s   lock %s   clinician counter %s"
          % (f.get("lvl"), f.get("lock"), f.get("ctr")))
    return 0


def cmd_stop(args):
    link = Link.open(args.port, args.baud)
    try:
        link.request("STOP", timeout=0.5, retries=4)
    finally:
        link.close()
    print("STOP sent: the table is returning upright")
    return 0


def cmd_simple(verb, done):
    def run(args):
        link, _ = connect(args)
        try:
            msg = link.request(verb)
        finally:
            link.close()
        print(done % msg.text if "%s" in done else done)
        return 0
    return run


def cmd_timesync(args):
    link, _ = connect(args)
    try:
        msg = link.request("TIME SET %d" % int(time.time()))
    finally:
        link.close()
    print("board clock set: %s" % msg.text)
    return 0


def _stop_and_report(link, screen):
    try:
        link.request("STOP", timeout=0.5, retries=4)
        screen.note("STOP sent: the table is returning upright")
    except LinkError as exc:
        screen.note("STOP could not be confirmed (%s): press the STOP button" % exc)


def cmd_run(args):
    link, _ = connect(args)
    screen = display.Screen()
    # Asked to end (or the terminal closed): STOP, as for Ctrl-C.
    old = {sig: signal.signal(sig, _raise_interrupt)
           for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if sig is not None}
    try:
        period = heartbeat_period(link)
        wait_ready(link, screen, period)
        link.take_events()
        msg = link.request("RUN " + args.program)
        if "START" in msg.text:
            screen.note("%s armed: press START on the table to begin (Ctrl-C cancels: STOP)"
                        % args.program)
        else:
            screen.note("running %s (Ctrl-C sends STOP)" % args.program)
        return _follow_session(link, screen, period, args.start_timeout)
    except KeyboardInterrupt:
        screen.end_progress()
        _stop_and_report(link, screen)
        return 130
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        link.close()


def wait_ready(link, screen, period, timeout_s=15.0):
    """Heartbeats while the board finishes its boot checks (a few seconds)."""
    deadline = time.monotonic() + timeout_s
    noted = False
    while True:
        link.send("HB")
        link.pump(period)
        st = link.fresh_state()["st"]
        if st != "boot":
            return st
        if not noted:
            screen.note("waiting for the board to finish booting ...")
            noted = True
        if time.monotonic() > deadline:
            raise LinkError("the board is still booting after %.0f s" % timeout_s)


def _follow_session(link, screen, period, start_timeout_s):
    start = time.monotonic()
    next_hb = start
    next_show = start
    seen_active = False
    emergency = None
    hold_total = 0
    while True:
        now = time.monotonic()
        if now >= next_hb:
            link.send("HB")
            next_hb = now + period
        link.pump(0.05)
        for ev in link.take_events():
            screen.end_progress() if screen.tty else None
            screen.note(describe(ev))
            words = ev.text.split()
            if words[:2] == ["state", "emergency_return"] or words[:2] == ["state", "halted"]:
                emergency = next((w[4:] for w in words if w.startswith("why=")), "?")
        t = link.fresh_state()
        st = t["st"]
        if st in ACTIVE_STATES:
            seen_active = True
        hold = t.get("hold", 0)
        if st != "holding":
            hold_total = hold
        if now >= next_show:
            next_show = now + (0.2 if screen.tty else 1.0)
            frac = 1.0 - hold / float(hold_total) if st == "holding" and hold_total else 0.0
            if screen.tty:
                screen.progress(display.status_line(t) + "  " + display.bar(frac, 12))
            else:
                screen.progress(display.plain_line(t, now - start))
        if st == "halted":
            screen.end_progress()
            raise LinkError("the table halted (%s): it needs attention" % (t.get("f") or emergency))
        if seen_active and st == "idle":
            screen.end_progress()
            if emergency:
                screen.note("session ended by an emergency return (%s); home, brake on"
                            % emergency)
                return 1
            screen.note("session complete: home, brake on")
            return 0
        if not seen_active and now - start > start_timeout_s:
            screen.end_progress()
            _stop_and_report(link, screen)
            raise LinkError("nobody pressed START within %.0f s: program cancelled"
                            % start_timeout_s)


def cmd_heartbeat(args):
    link, _ = connect(args)
    screen = display.Screen()
    verb = "HB pendant" if args.pendant else "HB"
    try:
        period = heartbeat_period(link)
        screen.note("sending %s every %.2f s; Ctrl-C to stop" % (verb, period))
        start = time.monotonic()
        next_show = start
        while True:
            link.send(verb)
            end = time.monotonic() + period
            while time.monotonic() < end:
                link.pump(0.05)
            for ev in link.take_events():
                screen.note(describe(ev))
            if time.monotonic() >= next_show and link.telemetry:
                next_show = time.monotonic() + 1.0
                screen.progress(display.status_line(link.telemetry))
    except KeyboardInterrupt:
        screen.end_progress()
        return 0
    finally:
        link.close()


def cmd_jog(args):
    if args.seconds <= 0 or args.seconds > 60:
        raise LinkError("--seconds must be in (0, 60]")
    link, _ = connect(args)
    screen = display.Screen()
    verb = "JOG " + args.direction.upper()
    try:
        link.send("HB")
        link.request(verb)
        start = time.monotonic()
        next_hb = start + HEARTBEAT_S
        next_jog = start + JOG_REPEAT_S
        while time.monotonic() - start < args.seconds:
            now = time.monotonic()
            if now >= next_hb:
                link.send("HB")
                next_hb = now + HEARTBEAT_S
            if now >= next_jog:
                link.send(verb)
                next_jog = now + JOG_REPEAT_S
            link.pump(0.02)
            for ev in link.take_events():
                screen.note(describe(ev))
            if link.telemetry:
                screen.progress("jog %s %s  %s" % (args.direction, display.bar(
                    (now - start) / args.seconds, 12), display.status_line(link.telemetry)))
        end = time.monotonic() + 0.7        # the board stops within 0.5 s of the last JOG
        while time.monotonic() < end:
            link.pump(0.05)
        screen.end_progress()
        t = link.fresh_state()
        screen.note("jog done: angle %.1f deg (%s)" % (t["ang"], t["st"]))
        return 0
    except KeyboardInterrupt:
        screen.end_progress()
        screen.note("jog released")
        return 130
    finally:
        link.close()


def cmd_monitor(args):
    link, info = connect(args)
    screen = display.Screen()
    events = []
    record = None
    writer = None
    if args.record:
        try:
            record = open(args.record, "w", newline="")
        except OSError as exc:
            link.close()
            raise LinkError("cannot write %s: %s" % (args.record, exc.strerror or exc)) from None
        writer = csv.writer(record)
        writer.writerow(RECORD_COLUMNS)
    start = time.monotonic()
    last_n = None
    next_draw = start
    try:
        while True:
            link.pump(0.05)
            for ev in link.take_events():
                events.append(time.strftime("%H:%M:%S ") + ev.text)
                del events[:-6]
                if not screen.tty:
                    screen.note(describe(ev))
            now = time.monotonic()
            t = link.telemetry
            if t is None or now - link.telemetry_at > 1.5:
                t = link.fresh_state(1.5)
            if writer is not None and t.get("n") != last_n:
                last_n = t.get("n")
                writer.writerow(["%.2f" % (now - start), t["ang"], t["sp"], t["cap"], t["st"],
                                 t["hold"], t["trac"], t["hb"], t["brk"], t["al"], t["f"]])
            if now >= next_draw:
                next_draw = now + (0.1 if screen.tty else 1.0)
                lines = [display.status_line(t)]
                if screen.tty:
                    lines = ["%s  %s  (Ctrl-C exits)" % (info.get("board"), link.port),
                             "state     %s%s" % (t["st"], "   ALARM" if t["al"] else ""),
                             "angle     %7.2f deg   setpoint %7.2f   cap %5.1f"
                             % (t["ang"], t["sp"], t["cap"]),
                             "hold      %s left" % display.mmss(t["hold"]),
                             "traction  %s %3.0f%% of body weight"
                             % (display.bar(t["trac"], 20), 100 * t["trac"]),
                             "heartbeat %s   brake %s   fault %s"
                             % ("ok" if t["hb"] else "NONE", "on" if t["brk"] else "off",
                                t["f"] or "-"),
                             "events:"] + ["  " + e for e in events]
                screen.draw(lines)
    except KeyboardInterrupt:
        return 0
    finally:
        if record is not None:
            record.close()
        link.close()


def cmd_profile(args):
    if args.action == "show":
        link, _ = connect(args)
        try:
            profile = json.loads(link.request("PROFILE GET").text)
            f = link.status()
        finally:
            link.close()
        print(json.dumps(profile, indent=2, sort_keys=True))
        print("in force: cap %s deg%s, level %s, lock %s, heartbeat timeout %s ms"
              % (f.get("cap"), "" if f.get("hb") == "1" else " (0 until heartbeats arrive)",
                 f.get("lvl"), f.get("lock"), f.get("hbto")))
        return 0
    if not args.assignments:
        raise LinkError("profile set needs KEY=VALUE ... (e.g. level=2 cap_deg=40)")
    changes = [parse_assignment(a) for a in args.assignments]
    profile_edit.check_edits(changes)
    key = keys.load_key(args.key)
    link, info = connect(args)
    try:
        if info.get("key") != "1":
            raise LinkError("the board has no device key: deploy one first (invertctl deploy)")
        # The stored clinician profile (not the level progression reached),
        # edited and checked with the board's own schema before signing.
        stored = json.loads(link.request("PROFILE GET").text)
        profile = profile_edit.apply_edits(stored, changes)
        text = "PROFILE SET " + json.dumps(profile, separators=(",", ":"), sort_keys=True)
        if args.counter is not None:
            counter = args.counter
        else:
            board_last = int(link.status().get("ctr", 0))
            counter = keys.CounterStore(args.state).next(key, board_last)
        msg = link.request(protocol.sign(text, counter, key))
    finally:
        link.close()
    print("profile set (counter %d): %s" % (counter, msg.text))
    print(json.dumps(profile, indent=2, sort_keys=True))
    return 0


def cmd_cal(args):
    """CAL LEVEL | POINT | SAVE, signed like a profile change."""
    key = keys.load_key(args.key)
    link, info = connect(args)
    try:
        if info.get("key") != "1":
            raise LinkError("the board has no device key: deploy one first (invertctl deploy)")
        board_last = int(link.status().get("ctr", 0))
        counter = keys.CounterStore(args.state).next(key, board_last)
        msg = link.request(protocol.sign("CAL " + args.step.upper(), counter, key))
    finally:
        link.close()
    print("calibration (counter %d): %s" % (counter, msg.text))
    return 0


def cmd_logs(args):
    link, _ = connect(args)
    try:
        listing = link.request("LOGS LIST").text.split()
        logs = [tuple(e.split(":", 1)) for e in listing[1:] if ":" in e]
        if args.action == "list":
            if not logs:
                print("no logs")
            for log_id, n in logs:
                print("%-8s %s lines" % (log_id, n))
            return 0
        log_id = args.id or (logs[-1][0] if logs else "0")
        out = args.output or "log-%s.csv" % log_id
        lines = pull_log(link, log_id)
    finally:
        link.close()
    try:
        with open(out, "w", newline="") as f:
            for line in lines:
                f.write(line + "\n")
    except OSError as exc:
        raise LinkError("cannot write %s: %s" % (out, exc.strerror or exc)) from None
    print("log %s: %d lines -> %s" % (log_id, len(lines), out))
    return 0


def pull_log(link, log_id, attempts=3):
    screen = display.Screen(sys.stderr)
    lines = []
    total = None
    for _ in range(attempts):
        link.stream = []
        first = len(lines)
        seq = link.send("LOGS PULL %s %d" % (log_id, first))
        msg = link.wait_reply(seq, 2.0)
        if msg is None:
            continue
        if msg.kind == "ERR":
            raise CommandError("LOGS", msg.code, msg.text)
        total = int(msg.fields.get("lines", 0))
        last_rx = time.monotonic()
        done = False
        while not done and time.monotonic() - last_rx < 2.0:
            link.pump(0.05)
            got = [m for m in link.stream if m.seq == seq]
            link.stream = [m for m in link.stream if m.seq != seq]
            for m in got:
                last_rx = time.monotonic()
                if m.kind == "END":
                    done = True
                    break
                idx, _, text = m.text.partition(" ")
                if int(idx) != len(lines):
                    break                   # a line was lost: resume from here
                lines.append(text)
            if total:
                screen.progress("log %s %s %d/%d lines" % (
                    log_id, display.bar(len(lines) / float(total)), len(lines), total))
        if done and len(lines) >= total:
            screen.end_progress()
            return lines
    screen.end_progress()
    raise LinkError("log %s: transfer incomplete (%d of %s lines)" % (log_id, len(lines), total))


def cmd_plot(args):
    out = args.output or os.path.splitext(args.csv)[0] + ".png"
    n, cols = plotting.plot_csv(args.csv, out, args.title)
    print("%s: %d rows, %s -> %s" % (args.csv, n, ", ".join(cols), out))
    return 0


def cmd_keygen(args):
    keys.new_key(args.file, args.force)
    print("device key written to %s (keep it secret; deploy puts it on the board)" % args.file)
    return 0


def cmd_deploy(args):
    key_path = args.key or os.environ.get("INVERTCTL_KEY")
    if not key_path:
        raise LinkError("no device key: give --key FILE or set INVERTCTL_KEY "
                        "(invertctl keygen FILE makes one)")
    if not os.path.isfile(key_path):
        raise LinkError("device key %s does not exist" % key_path)
    port = None if args.dry_run else resolve_port(args.port)
    if port:
        deploy_mod.check_port(port)
    screen = display.Screen(sys.stderr)
    out_dir = args.stage_dir or tempfile.mkdtemp(prefix="invertctl-deploy-")
    os.makedirs(out_dir, exist_ok=True)

    def progress(i, n, rel):
        screen.progress("compiling %s %d/%d %s" % (display.bar(i / float(n)), i, n, rel))

    entries = deploy_mod.stage(out_dir, args.board, key_path, args.firmware, progress)
    screen.end_progress()
    cmd = deploy_mod.mpremote_command(port or "PORT", out_dir, entries)
    if args.dry_run:
        print("staged in %s:" % out_dir)
        print(" ".join(cmd))
        return 0
    screen.note("copying %d entries to %s with mpremote ..." % (len(entries), port))
    deploy_mod.run_tool(cmd, "mpremote")
    print("deployed to %s (board %s); the board has been reset" % (port, args.board))
    return 0


def cmd_flash(args):
    port = resolve_port(args.port)
    cmds = deploy_mod.esptool_command(port, args.image, args.chip, args.flash_baud, args.erase)
    deploy_mod.check_port(port)
    for cmd in cmds:
        print("running: %s" % " ".join(cmd[2:]))
        r = __import__("subprocess").run(cmd)
        if r.returncode != 0:
            raise LinkError("esptool failed (exit %d): see its output above; is the board in "
                            "bootloader mode (hold BOOT, tap EN)?" % r.returncode)
    print("MicroPython flashed to %s; now: invertctl deploy" % port)
    return 0


# -- arguments ----------------------------------------------------------------------------

def build_parser():
    p = argparse.ArgumentParser(prog=PROG, description="Inversion-table controller: "
                                "sessions, profiles, logs and deployment over the serial link.")
    p.add_argument("--port", default=None, help="serial port (default: $INVERTCTL_PORT)")
    p.add_argument("--baud", type=int, default=115200)
    p.add_argument("--timeout", type=float, default=1.0, help="reply timeout, seconds")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    sub.add_parser("ports", help="list serial ports").set_defaults(fn=cmd_ports)
    s = sub.add_parser("status", help="state, angle, limits")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_status)
    s = sub.add_parser("monitor", help="live view (Ctrl-C exits)")
    s.add_argument("--record", metavar="CSV", help="also write the telemetry to a CSV")
    s.set_defaults(fn=cmd_monitor)
    s = sub.add_parser("run", help="run a program, keeping the heartbeat (Ctrl-C sends STOP)")
    s.add_argument("program")
    s.add_argument("--start-timeout", type=float, default=120.0,
                   help="seconds to wait for START on the table (then STOP cancels it)")
    s.set_defaults(fn=cmd_run)
    s = sub.add_parser("heartbeat", help="just keep the heartbeat going")
    s.add_argument("--pendant", action="store_true", help="as the pendant (HB pendant)")
    s.set_defaults(fn=cmd_heartbeat)
    sub.add_parser("stop", help="STOP: emergency return upright").set_defaults(fn=cmd_stop)
    sub.add_parser("pause", help="pause or resume the program").set_defaults(
        fn=cmd_simple("PAUSE", "%s"))
    sub.add_parser("ack", help="acknowledge the alarm").set_defaults(
        fn=cmd_simple("ACK", "alarm acknowledged"))
    sub.add_parser("timesync", help="set the board clock from this PC").set_defaults(
        fn=cmd_timesync)
    s = sub.add_parser("jog", help="hold-to-run jog for a few seconds")
    s.add_argument("direction", choices=("up", "down"), help="up = head-down")
    s.add_argument("--seconds", type=float, default=1.0)
    s.set_defaults(fn=cmd_jog)
    s = sub.add_parser("profile", help="show or change the profile (clinician)")
    s.add_argument("action", choices=("show", "set"))
    s.add_argument("assignments", nargs="*", metavar="KEY=VALUE")
    s.add_argument("--key", help="device key file (default: $INVERTCTL_KEY)")
    s.add_argument("--counter", type=int, default=None,
                   help="use this counter instead of the next one")
    s.add_argument("--state", help="counter state file (default: $INVERTCTL_STATE or "
                   "~/.config/invertctl/state.json)")
    s.set_defaults(fn=cmd_profile)
    s = sub.add_parser("cal", help="calibrate: level, a position point, save (clinician)")
    s.add_argument("step", choices=("level", "point", "save"),
                   help="level: the bed is level now; point: pair the position sensor "
                        "with the angle now; save: store the points as the position table")
    s.add_argument("--key", help="device key file (default: $INVERTCTL_KEY)")
    s.add_argument("--state", help="counter state file (default: $INVERTCTL_STATE or "
                   "~/.config/invertctl/state.json)")
    s.set_defaults(fn=cmd_cal)
    s = sub.add_parser("logs", help="list or download session logs")
    s.add_argument("action", choices=("list", "pull"))
    s.add_argument("id", nargs="?")
    s.add_argument("-o", "--output", help="CSV file (default: log-<id>.csv)")
    s.set_defaults(fn=cmd_logs)
    s = sub.add_parser("plot", help="PNG from a CSV log or trace")
    s.add_argument("csv")
    s.add_argument("-o", "--output")
    s.add_argument("--title")
    s.set_defaults(fn=cmd_plot)
    s = sub.add_parser("keygen", help="make a new 32-byte device key file")
    s.add_argument("file")
    s.add_argument("--force", action="store_true")
    s.set_defaults(fn=cmd_keygen)
    s = sub.add_parser("deploy", help="compile and copy the firmware to a board (mpremote)")
    s.add_argument("--board", default="esp32-devkitc-actuator",
                   help="board name in boards/ or a board JSON file")
    s.add_argument("--key", help="device key file (default: $INVERTCTL_KEY)")
    s.add_argument("--firmware", default=deploy_mod.FIRMWARE_DIR)
    s.add_argument("--stage-dir", help="where to put the compiled files")
    s.add_argument("--dry-run", action="store_true", help="compile and print the command only")
    s.set_defaults(fn=cmd_deploy)
    s = sub.add_parser("flash", help="write MicroPython to the board (esptool)")
    s.add_argument("--image", help="MicroPython firmware .bin")
    s.add_argument("--chip", default="esp32")
    s.add_argument("--flash-baud", type=int, default=460800)
    s.add_argument("--erase", action="store_true", help="erase the flash first")
    s.set_defaults(fn=cmd_flash)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except LinkError as exc:
        print("%s: error: %s" % (PROG, exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("%s: interrupted" % PROG, file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
