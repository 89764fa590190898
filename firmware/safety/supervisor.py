"""The safety supervisor: one place that decides what the actuator may do.

Every tick it takes every trigger (STOP, hardware e-stop, heartbeat age,
attendant grip, sensor and actuator faults, the cap, hold and session
timers) and turns them into one action. Actions are ordered by severity and
the most severe request wins (the pattern of PX4's failsafe framework):

    HALT       drive off, power-enable line dropped, brake on
    EMERGENCY  return upright now: fast while inverted, never pauses
    RETURN     normal return: to horizontal, dwell, then home
    NONE       the sequencer's proposal, clipped to the cap in force

A request only ever escalates the action in force. EMERGENCY clears when the
table is home with the brake on; RETURN when it is home; HALT when its cause
is gone and someone acknowledges it (START), after which the table returns
slowly. The supervisor is called twice per tick: `decide` before the
trajectory (it owns the target and limits during returns) and `authorize`
after the controller (it has the last word on the drive and the brake).

Units: mdeg, mdeg/s, ms. Nothing here touches hardware.
"""
from safety import spec
from safety.limits import band_of
from control.estimator import SPIKE_FAULT_SCORE

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

NONE = const(0)
RETURN = const(2)
EMERGENCY = const(3)
HALT = const(4)
BOOT = const(5)

# Return phases.
_TO_HORIZONTAL = const(0)
_DWELL = const(1)
_TO_HOME = const(2)
AT_REST = const(3)
RETRY_WAIT = const(4)

# Trigger and fault codes: what the trace, the log and the host link show.
T_STOP = "stop"
T_ESTOP = "estop"
_T_HEARTBEAT = const("heartbeat_lost")
_T_ATTENDANT = const("attendant_lost")
_T_OVER_CAP = const("over_cap")
_T_HOLD = const("hold_limit")
_T_SESSION = const("session_limit")
T_DONE = "program_done"
_T_BOOT_INVERTED = const("boot_inverted")
_T_ACK = const("acknowledged")
_F_IMU_NO_DATA = const("imu_no_data")
_F_IMU_FROZEN = const("imu_frozen")
_F_IMU_IMPLAUSIBLE = const("imu_implausible")
_F_POSITION = const("position_sensor")
_F_DISAGREE = const("sensor_disagree")
_F_STALL = const("stall")
_F_STALL_REPEATED = const("stall_repeated")
_F_RUNAWAY = const("runaway")
_F_BRAKE_SLIP = const("brake_slip")
_F_SELFCHECK = const("selfcheck_failed")

# Detection times, all well inside the 300 ms of SPEC R10.
_IMU_NO_DATA_MS = const(100)
_IMU_FROZEN_MS = const(200)
_IMU_IMPLAUSIBLE_MS = const(100)
_POSITION_BAD_MS = const(100)
_DISAGREE_MS = const(100)
_OVER_CAP_MS = const(100)
_RUNAWAY_MDEG_S = const(2000)
_RUNAWAY_MS = const(150)
# A fast runaway covers this much ground well before _RUNAWAY_MS: moved this
# far the wrong way (on the gyro's rate) is a runaway too, so one starting at
# the cap is stopped inside the 1 degree of SPEC R1.
_RUNAWAY_TRAVEL_UDEG = const(300000)
# Motor current with no drive commanded: the bridge is driving on its own,
# even while the brake still holds the bed.
_UNCOMMANDED_MA = const(500)
_UNCOMMANDED_MS = const(30)
# Faster than the setpoint by this much: driven by something other than our
# command (a runaway along the direction of travel, e.g. a driver stuck at
# a higher duty than the one commanded).
_OVERSPEED_MDEG_S = const(1500)
_SLIP_MDEG_S = const(500)
_SLIP_MS = const(200)
# Close enough to home to call the return finished.
_HOME_TOLERANCE_MDEG = const(800)
_LEVEL_MDEG = const(1500)
# Boot: let the estimator settle this long before judging the sensors.
_BOOT_SETTLE_MS = const(200)
# A part that has not produced a usable half second of data by then has failed.
_BOOT_SEAT_LIMIT_MS = const(1500)
_BOOT_INVERTED_MDEG = const(2000)
# Over-cap margin at which the drive may no longer push head-down.
_CAP_GATE_MDEG = const(300)
_MECH_GATE_MDEG = const(500)
# A brake table turns at up to a few deg/s; the brake takes ~40 ms to bite.
_BRAKE_CAP_MARGIN_MDEG = const(300)


class Signals:
    """Everything the supervisor looks at, filled in by the core each tick."""

    def __init__(self):
        self.theta_mdeg = 0          # the angle used for control
        self.theta_high_mdeg = 0     # the higher of the healthy sensors
        self.imu_usable = True
        self.imu_no_data_ms = 0
        self.imu_frozen_ms = 0
        self.imu_implausible_ms = 0
        self.has_position = False
        self.position_bad_ms = 0
        self.disagree_ms = 0
        self.bed_rate_mdeg_s = 0
        self.imu_spike_score = 0
        self.rate_coarse = False     # rate from the position sensor (IMU lost)
        self.setpoint_rate_mdeg_s = 0
        self.last_duty = 0
        self.brake_engaged_ms = 0
        self.stalled = False
        self.current_ma = 0          # the actuator's measured current
        self.stop = False
        self.start_edge = False
        self.estop = False
        self.heartbeat_age_ms = 1 << 29
        self.pendant_age_ms = 1 << 29
        self.attendant = False
        self.program_done = False
        self.setpoint_mdeg = 0
        self.at_target = True
        self.settled = False         # the actuator controller is done correcting
        self.selfcheck_ok = True


class Supervisor:
    def __init__(self, limits, is_brake_table, mech_min_mdeg, mech_max_mdeg):
        self.limits = limits
        self.brake_table = is_brake_table
        self.mech_min_mdeg = mech_min_mdeg
        self.mech_max_mdeg = mech_max_mdeg
        self.action = BOOT
        self.phase = _TO_HOME
        self.reason = ""
        self.fault = ""
        self.event = ""
        self.trigger_tick = False
        self.alarm = False
        self.alarm_due = False
        self._alarm_ms = 0
        self.cap_mdeg = 0
        self.heartbeat_ok = False
        self.target_mdeg = 0
        self.rate_mdeg_s = 0
        self.accel_mdeg_s2 = 0
        self.jerk_mdeg_s3 = 0
        self.gate_rate_mdeg_s = -1
        self.use_position = False
        self.halt_cause_active = False
        # A fault that has already been acted on is not acted on again while
        # it lasts; it must be gone and acknowledged before motion may resume.
        self.latched_fault = ""
        self.fault_active = False
        self._stop_prev = True
        self._overspeed_ms = 0
        self._phase_ms = 0
        self._retries = 0
        self._slow_mdeg_s = 0
        self._boot_ms = 0
        self._boot_settled_ms = -1
        self._over_cap_ms = 0
        self._runaway_ms = 0
        self._runaway_udeg = 0
        self._uncommanded_ms = 0
        self._slip_ms = 0
        self.hold_band = -1
        self.hold_ms = 0
        self.session_inverted_ms = 0
        self.reset_trajectory = False
        self._settled = False
        self.out_duty = 0
        self.out_enable = False
        self.out_release = False

    # -- helpers --------------------------------------------------------------

    def set_limits(self, limits):
        self.limits = limits

    def _escalate(self, action, reason, is_fault):
        """Take the more severe action; returns True if it changed."""
        if is_fault and reason == self.latched_fault and action <= EMERGENCY:
            return False
        if action <= self.action and self.action != BOOT:
            return False
        if self.action == BOOT and action < HALT and action != EMERGENCY:
            return False
        self.action = action
        self.reason = reason
        self.event = reason
        self.trigger_tick = action >= EMERGENCY
        self.alarm = action >= EMERGENCY
        self._alarm_ms = 0
        self.alarm_due = self.alarm
        if is_fault:
            self.fault = reason
            self.latched_fault = reason
        self._phase_ms = 0
        self._retries = 0
        self._slow_mdeg_s = 0
        if action == EMERGENCY:
            self.phase = _TO_HOME
        elif action == RETURN:
            self.phase = _TO_HORIZONTAL
        return True

    def start_slow_return(self, reason, rate_mdeg_s):
        """Boot-while-inverted and post-halt returns: EMERGENCY, but slow."""
        self.action = NONE
        self._escalate(EMERGENCY, reason, False)
        self._slow_mdeg_s = rate_mdeg_s

    def acknowledge(self):
        """START or the host acknowledged the alarm (and a fault now gone)."""
        if self.alarm:
            self.alarm = False
            self.event = _T_ACK
        if self.latched_fault and not self.fault_active and self.action == NONE:
            self.latched_fault = ""
            self.fault = ""
            self.event = _T_ACK

    # -- per tick, before the trajectory ---------------------------------------

    def decide(self, s, dt_ms):
        self.event = ""
        self.trigger_tick = False
        self.reset_trajectory = False
        lim = self.limits
        theta = s.theta_mdeg

        self.heartbeat_ok = s.heartbeat_age_ms <= lim.heartbeat_ms
        attendant_ok = s.attendant or s.pendant_age_ms <= lim.heartbeat_ms
        cap = lim.cap_mdeg
        # No live heartbeat (or no attendant for a child): inversion is
        # refused, not unguarded (SPEC R6, R8).
        if not self.heartbeat_ok or (lim.attended and not attendant_ok):
            if cap > 0:
                cap = 0
        self.cap_mdeg = cap

        self._timers(theta, dt_ms)
        if self.action == BOOT:
            self._boot(s, dt_ms)
        else:
            self._triggers(s, theta, cap, attendant_ok, dt_ms)
        self._plan(s, theta, dt_ms)
        if self.alarm:
            self._alarm_ms += dt_ms
            self.alarm_due = False
            if self._alarm_ms >= spec.ALARM_REPEAT_MS:
                self._alarm_ms = 0
                self.alarm_due = True

    def _timers(self, theta, dt_ms):
        if theta > 0:
            self.session_inverted_ms += dt_ms
            band = band_of(theta)
            if self.hold_band < 0:
                self.hold_band = band
                self.hold_ms = 0
            elif band != self.hold_band:
                # Change band only once clearly out of it (1 degree), so noise
                # at a band edge does not restart the hold.
                edges = spec.HOLD_BAND_EDGES_MDEG
                low = edges[self.hold_band - 1] if self.hold_band > 0 else 0
                high = edges[self.hold_band]
                if theta > high + spec.CAP_TOLERANCE_MDEG or theta < low - spec.CAP_TOLERANCE_MDEG:
                    self.hold_band = band
                    self.hold_ms = 0
            self.hold_ms += dt_ms
        else:
            self.hold_band = -1
            self.hold_ms = 0

    def _boot(self, s, dt_ms):
        self._boot_ms += dt_ms
        # Track STOP through boot, so a press made now is seen as one later.
        self._stop_prev = s.stop
        if not s.imu_usable and self._boot_ms < _BOOT_SEAT_LIMIT_MS:
            # The estimator is still measuring the gyro's bias at rest.
            return
        if self._boot_ms < _BOOT_SETTLE_MS:
            return
        if self._boot_settled_ms < 0:
            self._boot_settled_ms = self._boot_ms
        sensors_ok = (s.selfcheck_ok and s.imu_usable and s.imu_no_data_ms == 0
                      and (not s.has_position or s.position_bad_ms == 0)
                      and s.disagree_ms == 0)
        if not sensors_ok:
            self.action = NONE
            self._escalate(HALT, _F_SELFCHECK, True)
            return
        if s.estop:
            self.action = NONE
            self._escalate(HALT, T_ESTOP, False)
            return
        if s.theta_mdeg > _BOOT_INVERTED_MDEG:
            # Somebody may be hanging here with no other way down: warn for
            # 3 s, then bring them up slowly (SPEC R10).
            if self._boot_ms < self._boot_settled_ms + spec.BOOT_WARNING_MS:
                self.alarm = True
                return
            self.start_slow_return(_T_BOOT_INVERTED, spec.BOOT_RETURN_RATE_MDEG_S)
            return
        self.action = NONE
        self.event = "ready"

    def _triggers(self, s, theta, cap, attendant_ok, dt_ms):
        lim = self.limits
        inverted = theta > 0

        # Hardware e-stop: the actuator has no power. Never fight it.
        if s.estop:
            self._escalate(HALT, T_ESTOP, False)
        # STOP acts on the press; held, it only keeps everything from starting
        # (the core refuses programs and jog while it is pressed).
        if s.stop and not self._stop_prev:
            self._escalate(EMERGENCY, T_STOP, False)
        self._stop_prev = s.stop

        # Angle sources. Without the IMU a table with a position sensor can
        # still come home under control; one without cannot.
        imu_fault = ""
        if s.imu_no_data_ms >= _IMU_NO_DATA_MS:
            imu_fault = _F_IMU_NO_DATA
        elif s.imu_frozen_ms >= _IMU_FROZEN_MS:
            imu_fault = _F_IMU_FROZEN
        elif s.imu_implausible_ms >= _IMU_IMPLAUSIBLE_MS or s.imu_spike_score >= SPIKE_FAULT_SCORE:
            imu_fault = _F_IMU_IMPLAUSIBLE
        position_fault = s.has_position and s.position_bad_ms >= _POSITION_BAD_MS
        if imu_fault:
            if s.has_position and not position_fault:
                self.use_position = True
                self._escalate(EMERGENCY, imu_fault, True)
            else:
                self._escalate(HALT, imu_fault, True)
        if position_fault:
            if imu_fault:
                self._escalate(HALT, _F_POSITION, True)
            else:
                self._escalate(EMERGENCY, _F_POSITION, True)
        if s.disagree_ms >= _DISAGREE_MS and not imu_fault and not position_fault:
            # One of the two is wrong; the position sensor is coupled to the
            # actuator itself, so the return is steered by it.
            self.use_position = True
            self._escalate(EMERGENCY, _F_DISAGREE, True)

        # Motion nobody asked for.
        rate = s.bed_rate_mdeg_s
        if not self.brake_table:
            # A speed differenced from the potentiometer is noisier and lags:
            # allow it twice the margin.
            limit = _RUNAWAY_MDEG_S * 2 if s.rate_coarse else _RUNAWAY_MDEG_S
            moving_wrong = ((rate > limit and s.last_duty <= 0)
                            or (rate < -limit and s.last_duty >= 0))
            if moving_wrong:
                self._runaway_ms += dt_ms
                if self._runaway_udeg < _RUNAWAY_TRAVEL_UDEG:
                    # (bounded: stays a small int on the board)
                    self._runaway_udeg += (rate if rate > 0 else -rate) * dt_ms
            else:
                self._runaway_ms = 0
                self._runaway_udeg = 0
            # The coarse rate lags and is noisy: only its time rule applies.
            far = not s.rate_coarse and self._runaway_udeg >= _RUNAWAY_TRAVEL_UDEG
            # Faster than the setpoint, in the setpoint's direction or not:
            # something other than our command is driving the motor. (Not
            # while the bed is behind the setpoint: catching up with it is
            # our command.)
            excess = rate - s.setpoint_rate_mdeg_s
            margin = _OVERSPEED_MDEG_S * 2 if s.rate_coarse else _OVERSPEED_MDEG_S
            lead = s.theta_mdeg - s.setpoint_mdeg
            over = ((excess > margin and rate > limit and lead >= 0)
                    or (excess < -margin and rate < -limit and lead <= 0))
            self._overspeed_ms = self._overspeed_ms + dt_ms if over else 0
            if s.last_duty == 0 and s.current_ma > _UNCOMMANDED_MA:
                self._uncommanded_ms += dt_ms
            else:
                self._uncommanded_ms = 0
            if (self._runaway_ms >= _RUNAWAY_MS or far or self._overspeed_ms >= _RUNAWAY_MS
                    or self._uncommanded_ms >= _UNCOMMANDED_MS):
                self._escalate(HALT, _F_RUNAWAY, True)
        else:
            slipping = s.brake_engaged_ms > 100 and (rate > _SLIP_MDEG_S or rate < -_SLIP_MDEG_S)
            self._slip_ms = self._slip_ms + dt_ms if slipping else 0
            if self._slip_ms >= _SLIP_MS:
                self._escalate(HALT, _F_BRAKE_SLIP, True)

        if s.stalled and self.action < HALT:
            self._stall()

        # Below horizontal a missing heartbeat or attendant only holds the cap
        # in force at horizontal (inversion refused); while inverted it is an
        # emergency (SPEC R6, R8).
        if self.action < EMERGENCY and inverted:
            if not self.heartbeat_ok:
                self._escalate(EMERGENCY, _T_HEARTBEAT, False)
            elif lim.attended and not attendant_ok:
                self._escalate(EMERGENCY, _T_ATTENDANT, False)
        if self.action < EMERGENCY:
            high = s.theta_high_mdeg
            over = high > cap + spec.CAP_TOLERANCE_MDEG and high > 0
            self._over_cap_ms = self._over_cap_ms + dt_ms if over else 0
            if self._over_cap_ms >= _OVER_CAP_MS:
                self._escalate(EMERGENCY, _T_OVER_CAP, False)
        if self.action < RETURN:
            if self.hold_band >= 0 and self.hold_ms >= lim.hold_limit_ms(self.hold_band):
                self._escalate(RETURN, _T_HOLD, False)
            elif self.session_inverted_ms >= lim.session_ms and inverted:
                self._escalate(RETURN, _T_SESSION, False)
            elif s.program_done:
                self._escalate(RETURN, T_DONE, False)

        self.fault_active = self.latched_fault != "" and self._fault_present(s)
        if self.action == HALT:
            self.halt_cause_active = s.estop or self.fault_active
            if self.reason == T_ESTOP and not s.estop:
                # Power is back: a person may be hanging there; bring them up.
                self._leave_halt(theta)
            elif s.start_edge and not self.halt_cause_active:
                self._leave_halt(theta)

    def _fault_present(self, s):
        f = self.fault
        if f == _F_IMU_NO_DATA:
            return s.imu_no_data_ms > 0
        if f == _F_IMU_FROZEN:
            return s.imu_frozen_ms > 0
        if f == _F_IMU_IMPLAUSIBLE:
            return s.imu_implausible_ms > 0 or s.imu_spike_score > 0
        if f == _F_POSITION:
            return s.position_bad_ms > 0
        if f == _F_SELFCHECK:
            return not s.selfcheck_ok or s.imu_no_data_ms > 0
        if f == _F_DISAGREE:
            return s.disagree_ms > 0
        return False

    def _leave_halt(self, theta):
        self.reset_trajectory = True
        if theta > 0:
            self.start_slow_return(self.reason, spec.RETRY_RATE_MDEG_S)
        else:
            self.action = NONE
            self.event = "halt_cleared"

    def _stall(self):
        """Pinch or stall: stop, then retry the return slowly (SPEC R10)."""
        if self.action == EMERGENCY and self.phase == RETRY_WAIT:
            return
        if self.action == EMERGENCY and self._retries >= spec.RETRY_LIMIT:
            self._escalate(HALT, _F_STALL_REPEATED, True)
            return
        if self.action != EMERGENCY:
            self._escalate(EMERGENCY, _F_STALL, True)
        retries = self._retries
        self.phase = RETRY_WAIT
        self._phase_ms = 0
        self._retries = retries + 1
        self.fault = _F_STALL
        self.event = _F_STALL
        self.reset_trajectory = True

    # -- targets and limits for the trajectory ---------------------------------

    def _plan(self, s, theta, dt_ms):
        lim = self.limits
        self._settled = s.settled
        self.gate_rate_mdeg_s = -1
        self.rate_mdeg_s = lim.rate_mdeg_s
        self.accel_mdeg_s2 = lim.accel_mdeg_s2
        self.jerk_mdeg_s3 = lim.jerk_mdeg_s3
        home = lim.home_mdeg
        act = self.action
        self._phase_ms += dt_ms
        if act == EMERGENCY:
            self.target_mdeg = home
            if self.phase == RETRY_WAIT:
                # Each retry waits twice as long: time for someone to clear
                # whatever is in the way.
                if self._phase_ms >= spec.RETRY_WAIT_MS << (self._retries - 1):
                    self.phase = _TO_HOME
                    self._slow_mdeg_s = spec.RETRY_RATE_MDEG_S
                    self.reset_trajectory = True
                return
            if self._slow_mdeg_s:
                self.rate_mdeg_s = min(self._slow_mdeg_s, lim.rate_mdeg_s)
            elif s.setpoint_mdeg > 0:
                # Fast while inverted, slowing to the normal rate by horizontal.
                self.rate_mdeg_s = spec.EMERGENCY_RATE_MDEG_S
                self.accel_mdeg_s2 = spec.EMERGENCY_ACCEL_MDEG_S2
                self.jerk_mdeg_s3 = spec.EMERGENCY_JERK_MDEG_S3
                self.gate_rate_mdeg_s = lim.rate_mdeg_s
            if self._arrived(s, theta, home):
                self.phase = AT_REST
                self.action = NONE
                self.event = "home"
                # A brake table can come to rest short of the setpoint: the
                # command rests on the bed, so the brake holds it from now.
                self.reset_trajectory = True
        elif act == RETURN:
            if self.phase == _TO_HORIZONTAL:
                # The bed itself must be there: on a brake table the setpoint
                # can run ahead of a bed the person's arms are holding up.
                if s.setpoint_mdeg <= 0 and (theta < _LEVEL_MDEG or s.at_target and theta <= 0):
                    self.phase = _TO_HOME if s.setpoint_mdeg < 0 or theta < -_LEVEL_MDEG else _DWELL
                    self._phase_ms = 0
                    self.event = "dwell" if self.phase == _DWELL else ""
                self.target_mdeg = 0
            if self.phase == _DWELL:
                self.target_mdeg = 0
                if self._phase_ms >= lim.dwell_ms or s.start_edge:
                    self.phase = _TO_HOME
                    self._phase_ms = 0
            if self.phase == _TO_HOME:
                self.target_mdeg = home
                if self._arrived(s, theta, home):
                    self.action = NONE
                    self.phase = AT_REST
                    self.event = "home"
                    self.reset_trajectory = True     # as above

    def _arrived(self, s, theta, home):
        """The way home is over: home reached, or on a brake table, the bed
        resting head-up where the person's balance or the end stop holds it
        (only they can move it; a released brake on a still bed helps nobody)."""
        if s.at_target and s.setpoint_mdeg == home and self._near(theta, home):
            return True
        return self.brake_table and self._settled and theta < -_LEVEL_MDEG

    def _near(self, theta, home):
        d = theta - home
        if -_HOME_TOLERANCE_MDEG < d < _HOME_TOLERANCE_MDEG:
            return True
        # Stiction at the end of travel can leave the actuator a little short;
        # once its controller has given up correcting, that is home.
        return self._settled and -2 * _HOME_TOLERANCE_MDEG < d < 2 * _HOME_TOLERANCE_MDEG

    # -- per tick, after the controller ------------------------------------------

    def authorize(self, s, duty, brake_release):
        """Final say on the drive: sets out_duty, out_enable, out_release.

        (Attributes rather than a returned tuple: a tuple is a heap object.)
        """
        act = self.action
        self.out_enable = True
        if act == HALT or act == BOOT:
            self.out_duty = 0
            self.out_enable = False
            self.out_release = False
            return
        if act == EMERGENCY and self.phase == RETRY_WAIT:
            self.out_duty = 0
            self.out_release = False
            return
        theta = s.theta_mdeg
        if duty > 0 and self.head_down_refused(s.theta_high_mdeg):
            # Never push further past the cap in force, whatever was proposed,
            # in any mode (an emergency's turn-around included).
            duty = 0
        if duty > 0 and theta >= self.mech_max_mdeg - _MECH_GATE_MDEG:
            duty = 0
        if duty < 0 and theta <= self.mech_min_mdeg + _MECH_GATE_MDEG:
            duty = 0
        if self.brake_table and brake_release and s.theta_high_mdeg >= self.limits.cap_mdeg - _BRAKE_CAP_MARGIN_MDEG:
            # A brake table near its cap, in any mode: only let it move back down.
            if s.bed_rate_mdeg_s > 0 or (act < EMERGENCY and s.setpoint_mdeg >= self.cap_mdeg):
                brake_release = False
        self.out_duty = duty
        self.out_release = brake_release

    def head_down_refused(self, theta_high_mdeg):
        """True while authorize() lets no drive push head-down: past the cap in force."""
        return theta_high_mdeg >= self.cap_mdeg + _CAP_GATE_MDEG

    def state_name(self, seq_state):
        act = self.action
        if act == BOOT:
            return "boot"
        if act == HALT:
            return "halted"
        if act == EMERGENCY:
            return "emergency_return"
        if act == RETURN:
            return "returning"
        return seq_state
