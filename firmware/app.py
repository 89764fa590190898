"""The board glue: devices in, the core's tick, devices out.

`App` owns the driver objects built by drivers.board_setup and the hardware-free
`Core`. Each `tick` reads every sensor into the core's inputs, runs the core,
and applies its decision to the H-bridge, the brake, the buzzer and the LED.
The same class runs on the ESP32 (main.py) and in the simulator, which only
swaps the `machine` module underneath the drivers.

Use: ::

    devices = setup_board(board)            # brake on, drive off, first thing
    app = App(board, devices, profile)
    every 10 ms: app.tick(10)
"""
try:
    from micropython import const
except ImportError:
    def const(x):  # type: ignore[misc]
        return x

from core import Core
from control.actuator_ctl import build_ff_table
from safety.limits import compute_limits
from safety.lease import DriveLease
from session import programs, profiles, progression, calibration
from session.log import Log, SessionRecorder
from drivers import indicators
from drivers.ticks import ticks_add
from link.server import HostServer
import machine

_COUNTER_RECORD = "auth_counter"

# The lease is checked by a hardware timer, outside the control loop.
_LEASE_TIMER_ID = const(0)
_LEASE_TIMER_MS = const(10)


class App:
    def __init__(self, board, devices, profile=None, storage=None):
        self.board = board
        self.dev = devices
        # The clinician's profile; with storage, progression's level on top
        # (SPEC R3). Without storage (simulator scenarios, tests) as before.
        self.base_profile = profile or {}
        self.storage = storage
        self.progress = None
        self.notes = []
        if storage is not None:
            self.progress, note = progression.load(storage, self.base_profile)
            if note:
                self.notes.append(note)
            self.profile = progression.effective_profile(self.base_profile, self.progress)
        else:
            self.profile = self.base_profile
        self.limits = compute_limits(self.profile, board)
        actuator = board.get("actuator") or {}
        position = board.get("position_sensor") or {}
        ff = build_ff_table(position.get("cal"), actuator.get("rate_deg_s_full_duty", 10.0))
        self.core = Core(board, self.limits, ff)
        self.core.imu_offset_mdeg = devices.level_offset_mdeg
        self.lease = DriveLease()
        self._lease_timer = None
        self.now_ms = 0
        self._alarm_playing = False
        self._last_state = ""
        self.core.inputs.selfcheck_ok = self._selfcheck()
        # The last clinician counter accepted (link/auth.py), kept in flash so
        # a reboot cannot reopen an old signed command to replay.
        self._auth_counter = self._load_counter()
        self._cal_points = []
        self._apply_calibration()
        self.link = HostServer(self)
        # Made once: a bound method built anew every tick would allocate.
        self._wall_s = self.link.unix_time
        self.recorder = None
        if storage is not None:
            self.recorder = SessionRecorder(Log(storage), self._session_ended)
            # Closes a session a power cut left open; written at rest, later.
            self.recorder.recover(self._wall_s())
        if devices.hbridge is not None:
            self._start_lease_timer()

    def _start_lease_timer(self):
        # A bound method made once: the timer callback must not allocate.
        check = self._on_lease_timer
        self._lease_timer = machine.Timer(_LEASE_TIMER_ID)
        self._lease_timer.init(period=_LEASE_TIMER_MS, mode=machine.Timer.PERIODIC,
                               callback=check)

    def _on_lease_timer(self, _timer):
        self.lease_check(_LEASE_TIMER_MS)

    def stop(self):
        """Release the timer (a simulated reboot builds a fresh App)."""
        if self._lease_timer is not None:
            self._lease_timer.deinit()
            self._lease_timer = None

    def _selfcheck(self):
        """IMU present, configured and passing its own self-test."""
        imu = self.dev.imu
        try:
            imu.check()
            imu.configure()
            return imu.self_test()
        except OSError:
            return False

    # -- requests from the host link --------------------------------------------

    def heartbeat(self, source):
        self.core.heartbeat(source == "pendant")

    def start_program(self, name):
        steps, msg = programs.find(name, self.limits, self.storage)
        if steps is None:
            return False, msg
        if self.limits.lock:
            return False, "inversion locked: " + self.limits.lock
        if name == "full-inversion" and self.limits.cap_mdeg <= 60000:
            return False, "full inversion is locked (needs full_inversion and level 4)"
        ok, msg = self.core.start_steps(steps)
        if ok and self.recorder is not None:
            self.recorder.note_program(name, steps)
        return ok, msg

    def host_line(self, line):
        """A raw line from the host link (docs/protocol.md). Returns the reply bytes."""
        return self.link.handle_line(line)

    def apply_profile(self, profile):
        """A checked, authenticated profile: stored first (atomically; raises
        and changes nothing if refused), then the limits follow at once."""
        if self.storage is not None:
            profile = profiles.save(self.storage, profile)
            self.progress, _ = progression.load(self.storage, profile)
            effective = progression.effective_profile(profile, self.progress)
        else:
            effective = profile
        limits = compute_limits(effective, self.board)
        self.limits = limits
        self.core.set_limits(limits)
        self.base_profile = profile
        self.profile = effective

    def _session_ended(self, summary):
        """From the recorder, with the table at rest: progression (SPEC R3)."""
        today = progression.today_from_unix(self._wall_s())
        try:
            self.progress, _ = progression.record(
                self.storage, self.progress, self.base_profile,
                summary["completed"], summary["symptoms"], today)
        except Exception:
            return      # flash failure: the stored (old) level stays in force
        effective = progression.effective_profile(self.base_profile, self.progress)
        if effective["level"] != self.limits.level:
            self.limits = compute_limits(effective, self.board)
            self.core.set_limits(self.limits)
            self.profile = effective

    # -- replay counter and calibration -------------------------------------------

    def _load_counter(self):
        if self.storage is None:
            return 0
        payload, _status = self.storage.read(_COUNTER_RECORD)
        try:
            return int(payload) if payload else 0
        except ValueError:
            return 0

    @property
    def auth_counter(self):
        return self._auth_counter

    @auth_counter.setter
    def auth_counter(self, value):
        if value != self._auth_counter and self.storage is not None:
            self.storage.write(_COUNTER_RECORD, str(value).encode())
        self._auth_counter = value

    def _apply_calibration(self):
        cal, note = calibration.load(self.storage)
        if note:
            self.notes.append(note)
        offset = cal.get("level_offset_mdeg")
        if isinstance(offset, int) and -calibration.LEVEL_OFFSET_LIMIT_MDEG <= offset <= calibration.LEVEL_OFFSET_LIMIT_MDEG:
            self.core.imu_offset_mdeg = offset
        table = cal.get("position")
        if table is not None and self.dev.position is not None:
            try:
                self.dev.position.set_cal(self._check_table(table))
            except calibration.CalibrationError as exc:
                self.notes.append(str(exc) + ": board table kept")

    def _check_table(self, table):
        return calibration.check_table(table, int(self.board["mech_min_deg"] * 1000),
                                       int(self.board["mech_max_deg"] * 1000))

    def _store_calibration(self, key, value):
        cal, _note = calibration.load(self.storage)
        cal[key] = value
        calibration.save(self.storage, cal)

    def calibrate_level(self):
        """CAL LEVEL: the bed is level now (checked with a spirit level)."""
        est = self.core.estimator
        if not est.seated or est.no_data_ms:
            return False, "no IMU reading"
        raw_mdeg = est.theta_udeg // 1000
        if raw_mdeg > calibration.LEVEL_OFFSET_LIMIT_MDEG or raw_mdeg < -calibration.LEVEL_OFFSET_LIMIT_MDEG:
            return False, "the bed reads %d mdeg: level it first" % raw_mdeg
        self._store_calibration("level_offset_mdeg", raw_mdeg)
        self.core.imu_offset_mdeg = raw_mdeg
        return True, "level offset %d mdeg" % raw_mdeg

    def calibrate_point(self):
        """CAL POINT: pair the position sensor's raw reading with the angle now."""
        pos = self.dev.position
        if pos is None or not pos.ok:
            return False, "no position sensor reading"
        self._cal_points.append([pos.raw, self.core.theta_imu_mdeg])
        return True, "point %d raw=%d angle=%d mdeg" % (len(self._cal_points), pos.raw,
                                                         self.core.theta_imu_mdeg)

    def calibrate_save(self):
        """CAL SAVE: the points taken become the position table, stored atomically."""
        table = sorted(self._cal_points, key=lambda p: p[0])
        try:
            self._check_table(table)
        except calibration.CalibrationError as exc:
            return False, str(exc)
        self._store_calibration("position", table)
        self.dev.position.set_cal(table)
        self._cal_points = []
        return True, "position table of %d points stored" % len(table)

    # Host link LOGS LIST / LOGS PULL (link/server.py).
    def log_index(self):
        return self.recorder.log.index() if self.recorder is not None else []

    def log_lines(self, log_id):
        return self.recorder.log.pull(log_id) if self.recorder is not None else []

    # -- the tick ------------------------------------------------------------------

    def tick(self, dt_ms=10):
        # Each object is looked up once per tick (locals are the cheapest
        # names on both VMs).
        now = ticks_add(self.now_ms, dt_ms)
        self.now_ms = now
        dev = self.dev
        core = self.core
        inp = core.inputs

        try:
            dev.imu.read()
            frame = dev.bedframe
            frame.update()
            inp.imu_ok = True
            inp.along_mg = frame.along_mg
            inp.normal_mg = frame.normal_mg
            inp.rate_mdeg_s = frame.pitch_rate_mdeg_s
        except OSError:
            inp.imu_ok = False
        position = dev.position
        if position is not None:
            position.read()
            inp.position_ok = position.ok
            inp.position_mdeg = position.angle_mdeg
        current = dev.current
        if current is not None:
            current.read()
            inp.current_ma = current.current_ma
        buttons = dev.buttons
        buttons.update(now)
        estop = dev.estop
        estop.update(now)
        inp.stop = buttons.stop.pressed
        inp.start_edge = buttons.start.just_pressed
        inp.up = buttons.up.pressed
        inp.down = buttons.down.pressed
        attendant = buttons.attendant
        inp.attendant = attendant is not None and attendant.pressed
        inp.estop = estop.active

        link = self.link
        link.before_core(dt_ms)
        core.tick(dt_ms)
        self._apply(core)
        self._indicate(core, now)
        link.after_core(dt_ms)
        recorder = self.recorder
        if recorder is not None:
            # Last: writes (at rest only) come after the outputs are applied.
            recorder.tick(core, dt_ms, self._wall_s)

    def _apply(self, core):
        dev = self.dev
        hbridge = dev.hbridge
        if hbridge is not None:
            duty = core.duty_permille
            if core.enable:
                hbridge.enable(True)
                hbridge.set_duty(duty)
            else:
                hbridge.off()
            self.lease.grant(duty)
        if core.brake_engaged:
            dev.brake.engage()
        else:
            dev.brake.release()

    def lease_check(self, period_ms):
        """From a timer outside the tick: drop the drive if the lease ran out."""
        if self.lease.elapse(period_ms) == 0 and self.dev.hbridge is not None:
            if self.dev.hbridge.duty_permille != 0:
                self.dev.hbridge.off()

    def _indicate(self, core, now):
        sup = core.supervisor
        buzzer = self.dev.buzzer
        if sup.alarm:
            if sup.alarm_due or not self._alarm_playing:
                buzzer.play(indicators.ALARM, False)
                self._alarm_playing = True
        elif self._alarm_playing:
            buzzer.off()
            self._alarm_playing = False
        if core.state != self._last_state:
            # A short beep marks every phase change.
            if not sup.alarm:
                buzzer.play(indicators.BEEP, False)
            self.dev.led.play(indicators.BLINK_FAST if sup.alarm else indicators.BLINK_SLOW, True)
            self._last_state = core.state
        buzzer.update(now)
        self.dev.led.update(now)
