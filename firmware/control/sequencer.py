"""Runs a program's steps and the hold-to-run jog: it only proposes targets.

What the table may actually do is the supervisor's decision; this module
says what the person or the program asked for.

States (the names the trace and the host link use): idle, moving, holding,
paused, jog. A step is (target_mdeg, hold_ms, cue).
"""
from safety.spec import PAUSE_RESTART_MS

IDLE = "idle"
MOVING = "moving"
HOLDING = "holding"
PAUSED = "paused"
JOG = "jog"


class Sequencer:
    def __init__(self):
        self.state = IDLE
        self.steps = None
        self.index = 0
        self.hold_left_ms = 0
        self.paused_ms = 0
        self.target_mdeg = 0
        self.jog_dir = 0
        self.cue = ""
        self.finished = False
        self.armed = False
        # Set by the core once this step's target has reached the trajectory,
        # so a stale "at target" from the previous step is not taken as arrival.
        self.sent = False
        self._resume_state = IDLE
        self._state_before_jog = IDLE

    def load(self, steps):
        """Arm a program: it begins on START (allocation-free after this)."""
        self.steps = steps
        self.index = 0
        self.state = IDLE
        self.finished = False
        self.armed = True
        self.cue = ""

    def begin(self):
        self.armed = False
        self._begin(0)

    def abort(self):
        self.armed = False
        self.steps = None
        self.state = IDLE
        self.jog_dir = 0
        self.finished = False

    def running(self):
        return self.steps is not None and not self.armed

    def _begin(self, index):
        self.index = index
        self.finished = False
        target, hold, cue = self.steps[index]
        self.target_mdeg = target
        self.hold_left_ms = hold
        self.cue = cue
        self.sent = False
        self.state = MOVING

    def toggle_pause(self, position_mdeg):
        """START/PAUSE: pause in place, or resume. Returns True if it acted."""
        if self.steps is None:
            return False
        if self.armed and self.state == IDLE:
            self.begin()
            return True
        if self.state == PAUSED:
            self.state = self._resume_state
            if self.state == MOVING:
                self.target_mdeg = self.steps[self.index][0]
                # The step's target must reach the trajectory again before
                # arrival counts (the bed stopped short of it).
                self.sent = False
            return True
        # (== chains, not "in (A, B)": that builds a tuple on the heap.)
        if self.state == MOVING or self.state == HOLDING:
            self._resume_state = self.state
            self.state = PAUSED
            self.paused_ms = 0
            self.target_mdeg = position_mdeg
            return True
        return False

    def jog(self, direction):
        """Hold-to-run: direction +1 (UP, head-down), -1 (DOWN) or 0 (released)."""
        st = self.state
        if direction != 0 and (st == IDLE or st == PAUSED or st == JOG):
            if self.state != JOG:
                self._state_before_jog = self.state
            self.state = JOG
            self.jog_dir = direction
            return True
        if direction == 0 and self.state == JOG:
            self.state = self._state_before_jog
            self.jog_dir = 0
            return True
        return False

    def update(self, dt_ms, at_target, at_home):
        """Advance by one tick. at_target: the setpoint has arrived."""
        if self.state == MOVING:
            if at_target and self.sent:
                self.state = HOLDING
        elif self.state == HOLDING:
            self.hold_left_ms -= dt_ms
            if self.hold_left_ms <= 0:
                if self.index + 1 < len(self.steps):
                    self._begin(self.index + 1)
                else:
                    self.finished = True
                    self.steps = None
                    self.state = IDLE
        elif self.state == PAUSED:
            self.paused_ms += dt_ms
            if self._resume_state == HOLDING:
                # Hold timers keep counting through a pause (SPEC R7).
                self.hold_left_ms -= dt_ms
                if self.hold_left_ms < 0:
                    self.hold_left_ms = 0
            if at_home and self.paused_ms >= PAUSE_RESTART_MS and self.index != 0:
                # A long break (a toilet break): start again from the beginning.
                self.index = 0
                self.target_mdeg = self.steps[0][0]
                self.hold_left_ms = self.steps[0][1]
                self.cue = self.steps[0][2]
                self._resume_state = MOVING
