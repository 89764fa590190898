"""The control tick: sensors in, one decision, drive out. No hardware here.

The order of work in `tick` is fixed, and each step only uses what the steps
before it produced in the same tick:

1. estimator: fold in the IMU sample;
2. angle: choose the angle to control on and cross-check the two sensors;
3. sequencer: buttons and program steps propose a target;
4. supervisor.decide: every trigger, the cap in force, the action; during
   returns it sets the target and limits itself;
5. trajectory: one jerk-limited step toward the approved target;
6. controller: actuator duty, or brake release on a brake table;
7. supervisor.authorize: the last word on drive, enable and brake;
8. bookkeeping for telemetry.

A STOP read in step 0 (by whoever fills `inputs`) therefore turns the setpoint
toward home in step 5 of the same tick.

The inputs object is filled by the board glue (app.py) or a test; the tick
allocates nothing once running: integers only, no new objects.
"""
from control.estimator import AngleEstimator
from control.trajectory import Trajectory
from control.actuator_ctl import ActuatorController
from control.brake_ctl import BrakeController
from control.sequencer import Sequencer, JOG, PAUSED, IDLE, MOVING
from safety.supervisor import (Supervisor, Signals, NONE, EMERGENCY, HALT, RETURN, BOOT,
                               RETRY_WAIT)
from safety import spec

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

_POS_FILTER_DIV = const(16)
# Steering on the position sensor alone (IMU failed): follow it more closely.
_POS_FILTER_FAST_DIV = const(4)
# Position-derived speed is the change over this many ticks.
_POS_RATE_TICKS = const(20)
_AT_HOME_MDEG = const(1500)
# How far the setpoint may lead the bed on a brake table.
_BRAKE_LEAD_UDEG = const(2000000)
# A brake table's bed counts as at rest after this long this still.
_STILL_MDEG_S = const(200)
_STILL_MS = const(3000)
# Low-pass divisor for the position sensor's excess over the control angle.
_EXCESS_FILTER = const(32)
# The cap clamp follows a lower limit at once but a higher one only once it
# has risen this far: small rises would start moves smaller than the
# controller's deadband, each releasing the brake for nothing.
_CLAMP_RAISE_MDEG = const(150)


class Inputs:
    """One tick's readings, in integer units."""

    def __init__(self):
        self.imu_ok = False
        self.along_mg = 0
        self.normal_mg = 1000
        self.rate_mdeg_s = 0
        self.position_ok = False
        self.position_mdeg = 0
        self.current_ma = 0
        self.stop = True          # fail-safe until the first real reading
        self.start_edge = False
        self.up = False
        self.down = False
        self.attendant = False
        self.estop = False
        self.selfcheck_ok = True


class Core:
    def __init__(self, board, limits, ff_table):
        self.inputs = Inputs()
        self.signals = Signals()
        self.limits = limits
        self.brake_table = board.get("drive") == "brake"
        self.has_position = board.get("position_sensor") is not None
        cs = board.get("current_sense") or {}
        self.current_limit_ma = cs.get("limit_ma", 0)
        brake = board.get("brake") or {}
        self.estimator = AngleEstimator()
        self.trajectory = Trajectory()
        self.actuator = ActuatorController(ff_table)
        self.brake = BrakeController(brake.get("engage_ms", 40))
        self.sequencer = Sequencer()
        mech_min = int(board.get("mech_min_deg", -90) * 1000)
        mech_max = int(board.get("mech_max_deg", 90) * 1000)
        self.supervisor = Supervisor(limits, self.brake_table, mech_min, mech_max)
        self.trajectory.set_limits(limits.rate_mdeg_s, limits.accel_mdeg_s2, limits.jerk_mdeg_s3)

        self.heartbeat_age_ms = 1 << 29
        self.pendant_age_ms = 1 << 29
        self._heartbeat_seen = False
        self._pendant_seen = False
        self._ack = False
        self._position_filt_mdeg = 0
        self._position_seeded = False
        self._pos_hist = [0] * _POS_RATE_TICKS
        self._pos_hist_i = 0
        self.position_rate_mdeg_s = 0
        self._brake_engaged_ms = 0
        self._still_ms = 0
        self._excess_mdeg = 0
        self._clamp_mdeg = 0
        self._pending_event = ""
        # The IMU's mounting error, measured by the level calibration.
        self.imu_offset_mdeg = 0

        # Telemetry, read by the host link and the simulator's trace.
        self.state = "boot"
        self.theta_mdeg = 0
        self.theta_imu_mdeg = 0
        self.theta_position_mdeg = 0
        self.setpoint_mdeg = 0
        self.setpoint_rate_mdeg_s = 0
        self.setpoint_accel_mdeg_s2 = 0
        self.cap_mdeg = 0
        self.duty_permille = 0
        self.enable = False
        self.brake_engaged = True
        self.heartbeat_ok = False
        self.fault = ""
        self.event = ""
        self.trigger_tick = False
        self.hold_left_ms = 0

    # -- what the host link and buttons ask for (outside the tick) --------------

    def heartbeat(self, pendant):
        if pendant:
            self._pendant_seen = True
        self._heartbeat_seen = True

    def acknowledge(self):
        self._ack = True

    def start_steps(self, steps):
        """Run a program (already clipped). Refused unless idle and at rest."""
        sup = self.supervisor
        # Arming during boot is harmless: only START begins the motion.
        if sup.action != NONE and sup.action != BOOT:
            return False, "not ready: " + self.state
        if self.inputs.stop:
            return False, "STOP is pressed"
        if sup.latched_fault:
            return False, "fault " + sup.latched_fault + ": acknowledge it first"
        if self.sequencer.running() or self.sequencer.state == JOG:
            return False, "a program is already running"
        self.sequencer.load(steps)
        self.actuator.reset()
        self.supervisor.hold_ms = 0
        self._pending_event = "program_ready"
        return True, "ready: press START"

    def pause_toggle(self):
        if self.supervisor.action != NONE:
            return False
        moved = self.sequencer.toggle_pause(self.trajectory.position_mdeg())
        if moved and self.sequencer.state == PAUSED:
            self._stop_trajectory()
        return moved

    def set_limits(self, limits):
        self.limits = limits
        self.supervisor.set_limits(limits)

    def _stop_trajectory(self):
        # A released jog or a pause stops with the steepest jerk the firmware
        # uses (the emergency one) and the normal acceleration: smooth, and
        # done inside the 0.5 s SPEC R4 gives a jog to stop.
        t = self.trajectory
        t.set_limits(t.rate_mdeg_s, t.accel_limit_mdeg_s2, spec.EMERGENCY_JERK_MDEG_S3)
        t.set_target(t.stop_target_mdeg(spec.TICK_MS))

    def _keep_setpoint_near_bed(self, traj, theta):
        # Only the person can move a brake table. If they hold it back, the
        # setpoint must not run off to the target: it would stop governing the
        # speed once the bed does move. Keep it a little ahead of the bed, at
        # the speed it has reached, so the bed may follow at that speed.
        to_target = traj.target_udeg - theta * 1000
        lead = traj.pos_udeg - theta * 1000
        if to_target > 0 and lead > _BRAKE_LEAD_UDEG:
            traj.pos_udeg = theta * 1000 + _BRAKE_LEAD_UDEG
            traj.at_target = False
        elif to_target < 0 and lead < -_BRAKE_LEAD_UDEG:
            traj.pos_udeg = theta * 1000 - _BRAKE_LEAD_UDEG
            traj.at_target = False

    # -- the tick ----------------------------------------------------------------

    def tick(self, dt_ms):
        inp = self.inputs
        s = self.signals
        sup = self.supervisor
        seq = self.sequencer
        traj = self.trajectory
        est = self.estimator
        self.event = self._pending_event
        self._pending_event = ""

        # Heartbeat ages: counted up here, reset by arrivals (no clock needed).
        if self._heartbeat_seen:
            self.heartbeat_age_ms = 0
            self._heartbeat_seen = False
        elif self.heartbeat_age_ms < (1 << 29):
            self.heartbeat_age_ms += dt_ms
        if self._pendant_seen:
            self.pendant_age_ms = 0
            self._pendant_seen = False
        elif self.pendant_age_ms < (1 << 29):
            self.pendant_age_ms += dt_ms

        # 1. Estimator.
        est.update(inp.imu_ok, inp.along_mg, inp.normal_mg, inp.rate_mdeg_s, dt_ms)
        theta_imu = est.theta_udeg // 1000 - self.imu_offset_mdeg
        self.theta_imu_mdeg = theta_imu

        # 2. Angle. Control on the IMU (the pot's resolution is poor near home,
        # where the lever is short); the pot cross-checks it, and where it
        # reads higher the cap is moved down by the difference, so the bed
        # stays under the cap if either sensor is right.
        theta = theta_imu
        theta_high = theta_imu
        rate = est.bed_rate_mdeg_s
        if self.has_position:
            imu_trusted = not sup.use_position
            if inp.position_ok:
                if not self._position_seeded:
                    self._position_filt_mdeg = inp.position_mdeg
                    for i in range(_POS_RATE_TICKS):
                        self._pos_hist[i] = inp.position_mdeg
                    self._position_seeded = True
                pf = self._position_filt_mdeg
                if imu_trusted:
                    # Smoothed, with the gyro's rate carried along so it does not lag.
                    pf += est.bed_rate_mdeg_s * dt_ms // 1000
                    pf += (inp.position_mdeg - pf) // _POS_FILTER_DIV
                else:
                    pf += (inp.position_mdeg - pf) // _POS_FILTER_FAST_DIV
                self._position_filt_mdeg = pf
                s.position_bad_ms = 0
            else:
                s.position_bad_ms += dt_ms
            pos = self._position_filt_mdeg
            i = self._pos_hist_i
            self.position_rate_mdeg_s = (pos - self._pos_hist[i]) * 1000 // (_POS_RATE_TICKS * dt_ms)
            self._pos_hist[i] = pos
            self._pos_hist_i = i + 1 if i + 1 < _POS_RATE_TICKS else 0
            self.theta_position_mdeg = pos
            # Either the estimate or the latest clean accelerometer tilt far
            # from the position sensor: one of them is wrong.
            diff = pos - theta_imu
            diff_tilt = pos - (est.theta_accel_mdeg - self.imu_offset_mdeg)
            if self._position_seeded and est.seated and (
                    diff > spec.DISAGREE_LIMIT_MDEG or diff < -spec.DISAGREE_LIMIT_MDEG
                    or diff_tilt > spec.DISAGREE_LIMIT_MDEG or diff_tilt < -spec.DISAGREE_LIMIT_MDEG):
                s.disagree_ms += dt_ms
            else:
                s.disagree_ms = 0
            if not imu_trusted:
                theta = pos
                theta_high = pos
                rate = self.position_rate_mdeg_s
            elif s.position_bad_ms == 0 and pos > theta:
                theta_high = pos
        self.theta_mdeg = theta

        # 3. Sequencer: buttons, then the program.
        if inp.start_edge:
            if sup.alarm and sup.action == NONE:
                sup.acknowledge()
            elif sup.action == NONE:
                self.pause_toggle()
        if self._ack:
            sup.acknowledge()
            self._ack = False
        jog_dir = 1 if inp.up and not inp.down else (-1 if inp.down and not inp.up else 0)
        if inp.stop or sup.latched_fault:
            jog_dir = 0
        if sup.action == NONE:
            if jog_dir != 0 and seq.state != JOG:
                seq.jog(jog_dir)
            elif jog_dir == 0 and seq.state == JOG:
                seq.jog(0)
                self._stop_trajectory()
        at_home = theta - self.limits.home_mdeg < _AT_HOME_MDEG
        seq.update(dt_ms, traj.at_target, at_home)

        # 4. Supervisor.
        s.theta_mdeg = theta
        s.theta_high_mdeg = theta_high
        s.imu_usable = est.seated
        s.imu_no_data_ms = est.no_data_ms
        s.imu_frozen_ms = est.frozen_ms
        s.imu_implausible_ms = est.implausible_ms
        s.has_position = self.has_position
        s.bed_rate_mdeg_s = rate
        s.rate_coarse = self.has_position and sup.use_position
        s.imu_spike_score = est.spike_score
        s.setpoint_rate_mdeg_s = traj.velocity_mdeg_s
        s.last_duty = self.duty_permille
        s.brake_engaged_ms = self._brake_engaged_ms
        s.stalled = self.actuator.stalled
        s.current_ma = inp.current_ma
        s.stop = inp.stop
        s.start_edge = inp.start_edge
        s.estop = inp.estop
        s.heartbeat_age_ms = self.heartbeat_age_ms
        s.pendant_age_ms = self.pendant_age_ms
        s.attendant = inp.attendant
        s.program_done = seq.finished
        seq.finished = False
        s.setpoint_mdeg = traj.pos_udeg // 1000
        s.at_target = traj.at_target
        s.selfcheck_ok = inp.selfcheck_ok
        if self.brake_table:
            # A brake table is "settled" once the bed has stayed still with
            # the brake released: whatever holds it there (the end stop, the
            # person's balance), the firmware cannot move it further.
            if not self.brake_engaged and -_STILL_MDEG_S < rate < _STILL_MDEG_S:
                if self._still_ms < _STILL_MS:
                    self._still_ms += dt_ms
            else:
                self._still_ms = 0
            s.settled = self._still_ms >= _STILL_MS
        else:
            s.settled = self.actuator.settled
        before = sup.action
        sup.decide(s, dt_ms)
        act = sup.action
        if act != before and act >= RETURN or sup.reset_trajectory:
            seq.abort()
            self.actuator.reset()
        # Waiting to retry after a stall: the drive is off, so the command
        # waits on the bed too (a setpoint left running would jump back).
        held = act >= HALT or (act == EMERGENCY and sup.phase == RETRY_WAIT)
        if held or sup.reset_trajectory:  # HALT, BOOT, a retry's wait
            # Nothing moves: keep the setpoint on the bed so any later motion
            # starts from where the bed really is.
            traj.reset(theta)

        # 5. Trajectory.
        if act == NONE:
            lim = self.limits
            if seq.state == JOG:
                traj.set_limits(spec.JOG_RATE_MDEG_S, lim.accel_mdeg_s2, lim.jerk_mdeg_s3)
                traj.set_target(sup.cap_mdeg if seq.jog_dir > 0 else lim.home_mdeg)
            elif seq.state != IDLE and seq.state != PAUSED:
                traj.set_limits(lim.rate_mdeg_s, lim.accel_mdeg_s2, lim.jerk_mdeg_s3)
                # A step above the person's cap is taken at the cap (programs
                # are clipped when loaded; this catches any that were not).
                target = seq.target_mdeg
                if target > lim.cap_mdeg:
                    target = lim.cap_mdeg
                if target > sup.cap_mdeg:
                    # Held below the step's target by the heartbeat or
                    # attendant gate: waiting there is not arriving, and the
                    # step's hold does not start.
                    traj.set_target(sup.cap_mdeg)
                else:
                    traj.set_target(target)
                    seq.sent = True
            traj.clear_gate()
        elif act < HALT:
            traj.set_limits(sup.rate_mdeg_s, sup.accel_mdeg_s2, sup.jerk_mdeg_s3)
            if sup.gate_rate_mdeg_s >= 0:
                traj.set_gate(0, sup.gate_rate_mdeg_s)
            else:
                traj.clear_gate()
            traj.set_target(sup.target_mdeg)
            if (act == EMERGENCY and not self.brake_table and traj.velocity_mdeg_s > 0
                    and sup.head_down_refused(theta_high)):
                # No drive may push head-down here (past the cap in force),
                # so the self-locking actuator stops the bed where it is and
                # the turn toward home starts from it. A setpoint left to
                # finish its turn-around head-down would pull the bed after
                # it once the refusal lifts (a heartbeat back for a moment).
                traj.reset(theta)
                traj.set_target(sup.target_mdeg)
        # The cap in force bounds every setpoint, whoever asked for it, in the
        # control angle's terms (less what the other sensor reads above it).
        # The other sensor's excess is filtered (about 0.3 s): taken raw, its
        # noise would nudge a held target up a little at every peak, and each
        # nudge makes the controller correct, hunting with the brake.
        self._excess_mdeg += (theta_high - theta - self._excess_mdeg) // _EXCESS_FILTER
        cap_ctrl = sup.cap_mdeg - self._excess_mdeg
        if self._clamp_mdeg < cap_ctrl < self._clamp_mdeg + _CLAMP_RAISE_MDEG:
            cap_ctrl = self._clamp_mdeg
        self._clamp_mdeg = cap_ctrl
        if act < EMERGENCY and traj.target_udeg > cap_ctrl * 1000 and traj.target_udeg > traj.pos_udeg:
            traj.set_target(cap_ctrl if cap_ctrl > traj.pos_udeg // 1000 else traj.pos_udeg // 1000)
        resting = (act == NONE and traj.at_target
                   and (seq.state == IDLE or seq.state == PAUSED))
        if resting:
            # Keep the setpoint on the bed, so the next motion starts from it.
            traj.reset(theta)
        elif not held:
            traj.step(dt_ms)
        if self.brake_table and act < HALT:
            self._keep_setpoint_near_bed(traj, theta)
        sp = traj.pos_udeg // 1000
        sp_rate = traj.velocity_mdeg_s

        # 6. Controller.
        if self.brake_table:
            release = self.brake.update(sp, sp_rate, traj.target_udeg // 1000, theta,
                                        rate, dt_ms)
            duty = 0
        else:
            lim = traj.rate_mdeg_s
            if traj.gate_rate_mdeg_s >= 0 and traj.pos_udeg <= traj.gate_udeg:
                lim = traj.gate_rate_mdeg_s
            self.actuator.rate_limit_mdeg_s = lim
            duty = self.actuator.update(sp, sp_rate, theta, rate,
                                        inp.current_ma, self.current_limit_ma, dt_ms)
            release = duty != 0 or not traj.at_target
        if resting:
            # Nothing asked for: the brake holds the bed and the drive is off,
            # so a slowly drifting estimate cannot move an idle table.
            duty = 0
            release = False
            self.actuator.reset()

        # 7. Supervisor's last word.
        sup.authorize(s, duty, release)
        duty = sup.out_duty
        enable = sup.out_enable
        release = sup.out_release
        if not self.brake_table and not enable:
            self.actuator.reset()

        # 8. Telemetry.
        self.duty_permille = duty
        self.enable = enable
        self.brake_engaged = not release
        if self.brake_engaged:
            self._brake_engaged_ms += dt_ms
        else:
            self._brake_engaged_ms = 0
        self.setpoint_mdeg = sp
        self.setpoint_rate_mdeg_s = sp_rate
        self.setpoint_accel_mdeg_s2 = traj.accel_mdeg_s2
        # The person's cap. (Without a heartbeat the cap in force for new
        # motion is horizontal; that is a gate, not their cap.)
        self.cap_mdeg = self.limits.cap_mdeg
        self.heartbeat_ok = sup.heartbeat_ok
        self.fault = sup.fault
        self.trigger_tick = sup.trigger_tick
        if sup.event:
            self.event = sup.event
        self.hold_left_ms = seq.hold_left_ms if seq.state != IDLE else 0
        if act == NONE and seq.state == IDLE and not resting:
            # A released jog still coming to a stop: the bed is moving, so it
            # is not reported idle (idle means braked with the drive off).
            self.state = MOVING
        else:
            self.state = sup.state_name(seq.state)
