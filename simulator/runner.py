"""Run a scenario: the firmware's App against the plant, on the virtual clock.

Usage::

    from simulator.scenario import load_scenario
    from simulator.runner import run
    result = run(load_scenario("scenarios/stop-at-60.json"))
    result.rows, result.summary, result.tick_ms

Each control tick (board tick_ms, 10 ms), in this order:
1. the clock reaches the tick's time (timers fire, the watchdog is checked;
   a reset the chip asked for is carried out and the firmware boots again);
2. what is due: scenario events, button releases, the simulated host's
   heartbeat, a power-on, a reset after a firmware crash;
3. plant.step(): the physics over the tick that just passed, driven by the
   outputs the firmware left on the pins;
4. app.tick(): the firmware reads the sensors and writes its outputs;
5. one trace row (trace.py) of the firmware's telemetry and the plant's truth.

The firmware is booted like the chip boots it (as main.py does): its modules
are dropped from sys.modules and imported again (module state starts fresh),
the drivers are built with drivers.board_setup.setup_board, then
App(board, devices, profile), then the hardware watchdog is started; the
runner feeds it after every tick that completes, as main.py's loop does.
That boot happens at the start, after a power cycle, after a watchdog reset
or machine.reset(), and after the firmware raised an exception: on the board
an uncaught exception stops the control loop, the outputs (and any timer the
firmware started) carry on, and the starved watchdog resets the chip
watchdog_ms later; the runner lets the emulated watchdog do exactly that (if
the firmware died before the watchdog started, it resets the chip after
watchdog_ms itself). A tick that sleeps past the watchdog is reset the same
way. While the MCU is unpowered or crashed no tick runs and no row is
written; the plant keeps moving (the maxima of those stretches go into the
summary), and events of that time appear in the next row with their time.

The simulated host: heartbeats go straight to app.heartbeat(source) every
period_s; `command` lines go to app.host_line(line) (or, with "via": "uart",
as bytes into the emulated host UART). While a link_noise fault is active a
host heartbeat is lost with the probability that a HEARTBEAT_LINE_BYTES line
has a corrupted byte, and command bytes are corrupted (a random bit flipped)
at the fault's rate.

A scenario never makes the runner raise: firmware exceptions are caught and
treated as above, and recorded (summary "resets", event column).
"""
import copy
import heapq
import math
import os
import sys
import traceback

from . import machine as sim_machine
from .board_emul import (MachineReset, PWRON_RESET, HARD_RESET, WDT_RESET, DEEPSLEEP_RESET,
                         SOFT_RESET)
from .noise import Rng
from .plant import Plant
from .summary import summarize
from .scenario import FIRMWARE_DIR

DEFAULT_LINK_NOISE_RATE = 0.05
HEARTBEAT_LINE_BYTES = 4     # b"HB\r\n"
HOST_DRAIN_TICKS = 100       # how often a run empties the host side of the UART
MAX_RECORDED = 200           # resets and commands kept in the summary
TEXT_SHOWN = 60              # characters of a command or reply shown in the trace

RESET_NAMES = {PWRON_RESET: "power_on", HARD_RESET: "hard", WDT_RESET: "watchdog",
               DEEPSLEEP_RESET: "deepsleep", SOFT_RESET: "soft"}

# scheduled actions (heap entries: (tick, seq, action, payload))
_A_EVENT = 0
_A_RELEASE = 1
_A_POWER_ON = 2
_A_CRASH_RESET = 3

_NEVER = 1 << 62

# what the runner reads from app.core after every tick
TELEMETRY = ("state", "theta_mdeg", "setpoint_mdeg", "setpoint_rate_mdeg_s",
             "setpoint_accel_mdeg_s2", "cap_mdeg", "duty_permille", "brake_engaged",
             "heartbeat_ok", "fault", "event", "trigger_tick")


class Result:
    def __init__(self, rows, summary, tick_ms, scenario):
        self.rows = rows
        self.summary = summary
        self.tick_ms = tick_ms
        self.scenario = scenario


def _is_firmware(module):
    f = getattr(module, "__file__", None)
    return bool(f) and f.startswith(FIRMWARE_DIR + os.sep)


def _firmware_modules():
    return {name: m for name, m in list(sys.modules.items()) if _is_firmware(m)}


def _purge_firmware():
    for name in _firmware_modules():
        del sys.modules[name]


def _default_app_factory(board, devices, profile, flash=None):
    """The App as main.py builds it: the profile comes from the board's own
    (simulated) flash, which keeps what the firmware wrote across reboots."""
    from app import App
    if flash is None:
        return App(board, devices, profile)
    from session.storage import Storage
    from session import profiles
    storage = Storage(flash)
    stored, _note = profiles.load(storage)
    return App(board, devices, stored, storage)


def _show(data):
    """Bytes or str as one short printable line (for the event column)."""
    if isinstance(data, (bytes, bytearray)):
        data = bytes(data).decode("latin-1")
    out = data.encode("unicode_escape").decode("ascii")
    if len(out) > TEXT_SHOWN:
        out = out[:TEXT_SHOWN - 3] + "..."
    return out


def _text_bytes(text):
    """A scenario command's text as the bytes the host sends: U+0000..U+00FF are
    single bytes ("\\u00ff" is the byte 0xFF), anything beyond makes it UTF-8."""
    if all(ord(c) < 256 for c in text):
        return text.encode("latin-1")
    return text.encode("utf-8", "surrogatepass")


def _where(exc):
    """file:line of the innermost firmware frame of an exception, else the innermost."""
    frames = traceback.extract_tb(exc.__traceback__)
    for fr in reversed(frames):
        if fr.filename.startswith(FIRMWARE_DIR):
            return "%s:%d" % (os.path.relpath(fr.filename, FIRMWARE_DIR), fr.lineno)
    if frames:
        fr = frames[-1]
        return "%s:%d" % (os.path.basename(fr.filename), fr.lineno)
    return ""


class Runner:
    """One scenario on one simulated board. run() for a whole scenario as fast
    as possible; serve.py drives advance() in real time."""

    def __init__(self, scenario, app_factory=None, record=True, drain_host=True,
                 debug=None):
        self.sc = scenario
        self.board = scenario.board
        self.tick_ms = self.board["tick_ms"]
        self.tick_us = self.tick_ms * 1000
        self.app_factory = app_factory or _default_app_factory
        self.flash = None
        self.record = record
        self.drain_host = drain_host
        self.debug = debug          # a file to print firmware tracebacks to
        self.rows = []
        self.k = 0
        self.app = None
        self.powered = True
        self.off_until = 0
        self.crash_gen = 0
        self.seq = 0
        self.queue = []
        self.pending_ev = []
        self.resets = []
        self.reset_count = 0
        self.crash_entry = None
        self.press_gen = {}
        self.feed = None
        self.commands = []
        self.events_applied = 0
        self.host_rx_bytes = 0
        self.gap_max_theta = None
        self.gap_max_over = None
        self.link_noise = 0.0
        self.noise_rng = Rng(scenario.seed, 7)
        self.hb_source = scenario.heartbeat_source
        self.hb_on = self.hb_source != "none"
        self.hb_period_us = int(round(scenario.heartbeat_period_s * 1e6))
        self.hb_next_us = 0
        self.drain_next_k = HOST_DRAIN_TICKS
        self.plant = None
        self.emul = None
        self._saved_modules = None
        self._installed = False

    # --- set-up and tear-down ---------------------------------------------------
    def open(self):
        sc = self.sc
        self.plant = Plant(self.board, sc.person, seed=sc.seed)
        self.emul = self.plant.emul
        self.clock = self.emul.clock
        hu = self.board.get("host_uart") or {}
        self.uart = self.emul.uart(hu.get("id", 0), hu.get("baud"))
        self._saved_modules = _firmware_modules()
        # first on the path, so `import app` / `import core` find the firmware's
        if FIRMWARE_DIR in sys.path:
            sys.path.remove(FIRMWARE_DIR)
        sys.path.insert(0, FIRMWARE_DIR)
        sim_machine.install(self.emul)
        self._installed = True
        for ev in sc.events:
            self._schedule(self._tick_of(ev["t"]), _A_EVENT, ev)
        self._boot()

    def close(self):
        if not self._installed:
            return
        self._installed = False
        self.app = None
        _purge_firmware()
        if self._saved_modules:
            sys.modules.update(self._saved_modules)
        sim_machine.uninstall()

    def _tick_of(self, t_s):
        return int(math.ceil(t_s * 1000.0 / self.tick_ms - 1e-6))

    def _schedule(self, k, action, payload=None):
        self.seq += 1
        heapq.heappush(self.queue, (k, self.seq, action, payload))

    def _note(self, text):
        self.pending_ev.append((self.clock.now_us, text))

    def _take_events(self, k):
        """The scenario/runner events for the row of tick k; those that happened
        at another time (while no tick ran: power off, a crashed or hung
        firmware) say when."""
        out = []
        t_us = k * self.tick_us
        for at_us, text in self.pending_ev:
            out.append(text if at_us == t_us else "%s (at %.2f s)" % (text, at_us / 1e6))
        self.pending_ev = []
        return "; ".join(out)

    def now_s(self):
        """Virtual time now (the firmware's sleeps can put it past the tick's)."""
        return round(self.clock.now_us / 1e6, 3)

    # --- the firmware's life -------------------------------------------------------
    def _boot(self):
        """Import the firmware afresh and build the App, as the chip boots."""
        _purge_firmware()
        try:
            from drivers.board_setup import setup_board
            devices = setup_board(self.board, self.clock.ticks_ms())
            if self.app_factory is _default_app_factory:
                if self.flash is None:
                    self._format_flash()
                app = _default_app_factory(copy.deepcopy(self.board), devices,
                                           copy.deepcopy(self.sc.profile), self.flash)
            else:
                app = self.app_factory(copy.deepcopy(self.board), devices,
                                       copy.deepcopy(self.sc.profile))
            core = getattr(app, "core", None)
            missing = [name for name in TELEMETRY if not hasattr(core, name)]
            if missing:
                raise AttributeError("App.core has no %s (the runner reads them every tick)"
                                     % ", ".join(missing))
            # as main.py does: the hardware watchdog starts once the App is
            # built, and every tick that completes feeds it
            self.feed = devices.start_watchdog().feed_if
            self.app = app
        except MachineReset:
            self.app = None
        except (Exception, SystemExit) as exc:
            self._crashed(exc, "boot")

    def _format_flash(self):
        """A fresh board's flash, with the scenario's profile stored on it."""
        from simulator.flash import FlashFs
        from session.storage import Storage
        from session import profiles
        self.flash = FlashFs(self.sc.seed)
        profiles.save(Storage(self.flash), self.sc.profile or {})

    def _crashed(self, exc, where):
        """The firmware raised: the loop is dead, the watchdog will reset the chip."""
        self.app = None
        name = "firmware_exception:" + type(exc).__name__
        self._note(name)
        entry = {"t_s": self.now_s(), "cause": name, "during": where,
                 "where": _where(exc), "message": str(exc)[:200]}
        if len(self.resets) < MAX_RECORDED:
            self.resets.append(entry)
        self.crash_entry = entry
        if self.debug is not None:
            print("firmware exception at t=%.2f s (%s):" % (self.now_s(), where),
                  file=self.debug)
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=self.debug)
        self.crash_gen += 1
        ticks = max(1, self.board.get("watchdog_ms", 1000) // self.tick_ms)
        self._schedule(self.k + ticks, _A_CRASH_RESET, self.crash_gen)

    def _chip_reset(self, cause):
        """Carry out a reset the chip asked for (watchdog, machine.reset())."""
        name = RESET_NAMES.get(cause, str(cause))
        self._note("reset:" + name)
        self.reset_count += 1
        if self.crash_entry is not None:
            # the reset a crash led to: one entry for both
            self.crash_entry["reset_t_s"] = self.now_s()
            self.crash_entry = None
        elif len(self.resets) < MAX_RECORDED:
            self.resets.append({"t_s": self.now_s(), "cause": name})
        self.crash_gen += 1          # a pending crash reset is done by this one
        self.emul.hard_reset(cause)
        self._boot()

    def _call(self, fn, *args):
        """A request into the firmware outside its tick; an exception is a crash."""
        try:
            return True, fn(*args)
        except MachineReset:
            self.app = None
            return False, None
        except (Exception, SystemExit) as exc:
            self._crashed(exc, fn.__name__)
            return False, None

    # --- scheduled work -------------------------------------------------------------
    def _next_due(self):
        due = self.queue[0][0] if self.queue else _NEVER
        if self.hb_on and self.app is not None:
            hk = -(-self.hb_next_us // self.tick_us)
            if hk < due:
                due = hk
        if self.drain_host and self.drain_next_k < due:
            due = self.drain_next_k
        return due

    def _due(self, k):
        q = self.queue
        while q and q[0][0] <= k:
            _, _, action, payload = heapq.heappop(q)
            if action == _A_EVENT:
                self.events_applied += 1
                self._event(payload)
            elif action == _A_RELEASE:
                button, gen = payload
                # a later press of the same button sets its own release time
                if self.press_gen.get(button) == gen:
                    self.plant.release(button)
                    self._note("release:" + button)
            elif action == _A_POWER_ON:
                if not self.powered and k >= self.off_until:
                    self.powered = True
                    self.plant.power_on()
                    self._note("power_on")
                    self._boot()
            elif action == _A_CRASH_RESET:
                if payload == self.crash_gen and self.powered and self.app is None:
                    self._chip_reset(WDT_RESET)
        if self.hb_on and self.app is not None:
            now_us = k * self.tick_us
            if now_us >= self.hb_next_us:
                # one heartbeat now; the next on the period's grid
                lost = (self.link_noise > 0.0 and self.hb_source == "host"
                        and self.noise_rng.uniform() < 1.0 - (1.0 - self.link_noise)
                        ** HEARTBEAT_LINE_BYTES)
                beat = getattr(self.app, "heartbeat", None)
                if beat is not None and not lost:
                    self._call(beat, self.hb_source)
                p = self.hb_period_us
                self.hb_next_us += ((now_us - self.hb_next_us) // p + 1) * p
        if self.drain_host and k >= self.drain_next_k:
            self.drain_next_k = k + HOST_DRAIN_TICKS
            data = self.uart.host_read()
            if data:
                self.host_rx_bytes += len(data)
                if self.commands and self.commands[-1].get("via") == "uart":
                    got = self.commands[-1]
                    if len(got["reply"]) < 2000:
                        got["reply"] += data.decode("latin-1")[:2000]

    def _event(self, ev):
        do = ev["do"]
        plant = self.plant
        app = self.app
        if do == "press":
            b = ev["button"]
            plant.press(b)
            self._note("press:" + b)
            gen = self.press_gen[b] = self.press_gen.get(b, 0) + 1
            if ev["hold_s"] is not None:
                self._schedule(self.k + max(1, self._tick_of(ev["hold_s"])), _A_RELEASE, (b, gen))
        elif do == "release":
            plant.release(ev["button"])
            self.press_gen[ev["button"]] = self.press_gen.get(ev["button"], 0) + 1
            self._note("release:" + ev["button"])
        elif do == "program":
            name = ev["name"]
            if app is None:
                self._note("program:%s (firmware not running)" % name)
            elif not hasattr(app, "start_program"):
                self._note("program:%s (firmware has no start_program)" % name)
            else:
                ok, res = self._call(app.start_program, name)
                if not ok:
                    self._note("program:%s (raised)" % name)
                else:
                    good, msg = (res if isinstance(res, tuple) and len(res) == 2
                                 else (bool(res), ""))
                    self._note("program:%s%s" % (name, "" if good else
                                                 " refused (%s)" % _show(str(msg))))
        elif do == "heartbeat":
            if ev["state"] == "off":
                self.hb_on = False
            else:
                if "source" in ev:
                    self.hb_source = ev["source"]
                elif self.hb_source == "none":
                    self.hb_source = "host"
                self.hb_on = True
                self.hb_next_us = self.k * self.tick_us
            self._note("heartbeat:%s" % ev["state"])
        elif do == "fault":
            kind = ev["kind"]
            if kind == "link_noise":
                self.link_noise = ev["params"].get("rate", DEFAULT_LINK_NOISE_RATE)
                self._note("fault:link_noise")
            elif plant.inject_fault(kind, **ev["params"]):
                self._note("fault:" + kind)
            else:
                self._note("fault:%s (not on this board)" % kind)
        elif do == "clear":
            kind = ev["kind"]
            if kind == "link_noise":
                self.link_noise = 0.0
            else:
                plant.clear_fault(kind)
            self._note("clear:" + kind)
        elif do == "power_cycle":
            self._note("power_off")
            self.off_until = max(self.off_until, self.k + self._tick_of(ev["off_s"]))
            if self.powered:
                self.powered = False
                plant.power_off()
                self.app = None
                self.crash_gen += 1
                self.crash_entry = None
            self._schedule(self.off_until, _A_POWER_ON)
        elif do == "command":
            self._command(ev)
        elif do == "arms":
            plant.set_arms(ev["position"] == "up")
            self._note("arms:" + ev["position"])

    def _corrupt(self, data):
        rate = self.link_noise
        if rate <= 0.0:
            return data
        out = bytearray(data)
        rng = self.noise_rng
        for i in range(len(out)):
            if rng.uniform() < rate:
                out[i] ^= 1 << int(rng.uniform() * 8) % 8
        return bytes(out)

    def _command(self, ev):
        data = self._corrupt(_text_bytes(ev["text"]))
        entry = {"t_s": self.now_s(), "via": ev["via"], "sent": data.decode("latin-1"),
                 "reply": ""}
        if len(self.commands) < MAX_RECORDED:
            self.commands.append(entry)
        if ev["via"] == "uart":
            if self.app is None:
                self._note("command:%s (firmware not running)" % _show(data))
            else:
                self.uart.host_write(data)
                self._note("command:%s (uart)" % _show(data))
            return
        lines = data.split(b"\n")
        if len(lines) > 1 and lines[-1] == b"":
            lines.pop()
        for line in lines:
            app = self.app
            if app is None:
                self._note("command:%s (firmware not running)" % _show(line))
                continue
            if not hasattr(app, "host_line"):
                self._note("command:%s (firmware has no host_line)" % _show(line))
                continue
            ok, reply = self._call(app.host_line, line)
            if not ok:
                self._note("command:%s (raised)" % _show(line))
                continue
            if isinstance(reply, (bytes, bytearray)):
                entry["reply"] += bytes(reply).decode("latin-1")
            self._note("command:%s -> %s" % (_show(line), _show(reply or b"")))

    # --- the loop ----------------------------------------------------------------------
    def advance(self, k_end):
        """Run ticks self.k .. k_end inclusive; self.k ends at k_end + 1."""
        clock = self.clock
        emul = self.emul
        plant = self.plant
        step = plant.step
        body = plant.body
        rows = self.rows
        append = rows.append
        record = self.record
        tick_us = self.tick_us
        tick_ms = self.tick_ms
        k = self.k
        app = self.app
        feed = self.feed
        # clock.advance_us without its call: the board's hook runs the timers
        # and the watchdog up to the tick's time.
        run_to = clock.hook
        next_due = self._next_due()
        while k <= k_end:
            t_us = k * tick_us
            now = clock.now_us
            if now < t_us:
                try:
                    if run_to is not None:
                        run_to(t_us)
                    else:
                        clock.now_us = t_us
                except (Exception, SystemExit) as exc:
                    # a firmware timer callback raised: counted as a crash
                    # (the first one only, while the loop is still alive)
                    self.k = k
                    if self.app is not None:
                        self._crashed(exc, "timer callback")
                    app = None
                    next_due = self._next_due()
            if emul.reset_pending is not None or k >= next_due:
                self.k = k
                if emul.reset_pending is not None and self.powered:
                    self._chip_reset(emul.reset_pending)
                if k >= next_due:
                    self._due(k)
                next_due = self._next_due()
                app = self.app
                feed = self.feed
            step()
            if app is not None and clock.now_us == t_us:
                try:
                    app.tick(tick_ms)
                except MachineReset:
                    self.app = app = None
                    next_due = k
                except (Exception, SystemExit) as exc:
                    self.k = k
                    self._crashed(exc, "tick")
                    app = None
                    next_due = self._next_due()
                else:
                    feed(True)
                    sev = self._take_events(k) if self.pending_ev else ""
                    if record:
                        c = app.core
                        append((k, plant.theta_deg, c.theta_mdeg, c.setpoint_mdeg, c.cap_mdeg,
                                c.state, c.duty_permille, c.brake_engaged, c.heartbeat_ok,
                                c.fault, sev, c.event, c.setpoint_rate_mdeg_s,
                                c.setpoint_accel_mdeg_s2, plant.rate_deg_s, plant.current_ma,
                                body.arms_target, plant.brake_engaged, c.trigger_tick))
                    k += 1
                    continue
            # no control tick ran: the plant's truth still counts
            self._gap(plant.theta_deg)
            k += 1
        self.k = k

    def _gap(self, theta):
        if self.gap_max_theta is None or theta > self.gap_max_theta:
            self.gap_max_theta = theta
        cap = self.rows[-1][4] if self.rows else None
        if cap is not None:
            over = theta - cap * 0.001
            if self.gap_max_over is None or over > self.gap_max_over:
                self.gap_max_over = over

    # --- the whole scenario --------------------------------------------------------------
    def summary(self):
        sc = self.sc
        gap = {"max_theta_deg": self.gap_max_theta, "max_over_cap_deg": self.gap_max_over}
        extra = {
            "description": sc.description,
            "seed": sc.seed,
            "events": self.events_applied,
            "resets": self.resets,
            "reset_count": self.reset_count,
            "commands": self.commands,
            "host_rx_bytes": self.host_rx_bytes,
            "powered_at_end": self.powered,
            "home_deg": self.board["home_deg"],
        }
        return summarize(self.rows, self.board, self.tick_ms, sc.name, sc.board_name,
                         sc.duration_s, extra, gap)


def run(scenario, app_factory=None, debug=None):
    """Run the whole scenario on the virtual clock; returns a Result."""
    runner = Runner(scenario, app_factory, debug=debug)
    n = int(round(scenario.duration_s * 1000.0 / runner.tick_ms))
    try:
        runner.open()
        runner.advance(n)
    finally:
        runner.close()
    return Result(runner.rows, runner.summary(), runner.tick_ms, scenario)
