"""The plant: table, person, actuator or brake, and sensors, wired to the
emulated board the way the board file says.

Usage::

    plant = Plant(board_dict, {"mass_kg": 80, "height_cm": 178}, seed=7)
    machine.install(plant.emul)          # firmware talks to plant.emul
    every tick:  plant.step(); plant.emul.advance(board_dict["tick_ms"]); firmware tick
    plant.theta_deg, plant.rate_deg_s, plant.stroke_mm, plant.current_ma,
    plant.brake_engaged, plant.duty
    plant.press("stop"); plant.release("stop"); plant.cut_wire("stop")
    plant.set_arms(True)
    plant.inject_fault("pinch", torque_nm=300); plant.clear_fault("pinch")
    plant.power_off(); plant.power_on()

step() reads the firmware's outputs from the emulated pins, advances the
physics by one tick, and leaves the sensor side ready: the IMU, the
position and current ADCs are computed when the firmware reads them.

WIRING CONVENTIONS (what the firmware drivers must match)

estop_sense pin: 1 while actuator/brake power is present (hardware e-stop
  not pressed); 0 when the e-stop has cut it. The sense line has a
  pull-down, so a broken wire also reads 0 (= power cut). Also 0 while the
  supply is off. press("estop") / release("estop") work the hardware e-stop;
  it cuts the H-bridge supply and the brake supply (brake engages).
Buttons (board "buttons", active_low true): pull-ups, contact to ground.
  Normally open buttons (start, up, down, attendant): released 1,
  pressed 0. STOP (stop_normally_closed): released 0, pressed 1, and a cut
  wire reads 1 (cut_wire("stop")). With active_low false every level is
  mirrored.
H-bridge ("pwm_dir"): duty = PWM duty_u16 / 65535 on hbridge.pwm; DIR
  (hbridge.dir) level 1 = positive command, 0 = negative. ("in1_in2":
  duty = (duty on hbridge.in1 - duty on hbridge.in2) / 65535.) A PWM pin
  used as a plain output counts as duty 0 or 1. hbridge.enable level 1 =
  bridge powered; 0 (or unconfigured) = no power, the actuator holds
  (self-locking). A positive command extends the actuator when
  positive_duty_extends is true; extending turns the table head-down.
Brake (brake.pin): an output at release_level releases it (power to
  release), after brake.engage_ms (release_ms if given, else the same); any
  other level, a pin not configured as an output (after boot or a reset),
  or no supply engages it after engage_ms. The enable line likewise only
  powers the bridge while it is an output driven high.
Position sensor ADC (position_sensor.adc): 12-bit counts at ATTN_11DB,
  linear in stroke, board cal[0] raw at mech_min_deg and cal[-1] raw at
  mech_max_deg (see actuator.calibration_table for the in-between points),
  noise sigma 1.5 counts. Open (fault): ~4095 (rail "high", default) or ~0.
Current sense ADC (current_sense.adc): counts = current_ma / ma_per_count +
  offset_counts, noise sigma 2 counts, clipped to 0..4095.
IMU: see imu_model (theta = atan2(-along_mg, normal_mg)).
"""
import math

from .board_emul import Board, PWRON_RESET
from .noise import Rng, GAUSS_TABLE
from .physics import Body, Person, RAD, DEG
from .actuator import Actuator
from .imu_model import Mpu6050

DEFAULT_PERSON = {"mass_kg": 80.0, "height_cm": 178.0}
BUTTONS = ("stop", "start", "up", "down", "attendant")
FAULTS = ("imu_bus_error", "imu_missing", "imu_freeze", "imu_spike", "imu_bias",
          "position_sensor_open", "actuator_stall", "actuator_runaway", "brake_slip",
          "pinch", "link_noise")
DEFAULT_RUNAWAY_DUTY = 0.6
DEFAULT_SLIP_FRACTION = 0.05
DEFAULT_PINCH_NM = 150.0
POT_NOISE_COUNTS = 1.5
CURRENT_NOISE_COUNTS = 2.0
# Free-body integration: substeps per tick for the brake table while moving.
BRAKE_SUBSTEPS = 4


class Plant:
    def __init__(self, board, person=None, seed=0, emul=None, theta_deg=None):
        self.board = board
        if person is None:
            person = DEFAULT_PERSON
        if isinstance(person, Person):
            self.person = person
        else:
            self.person = Person(person.get("mass_kg", DEFAULT_PERSON["mass_kg"]),
                                 person.get("height_cm", DEFAULT_PERSON["height_cm"]))
        self.seed = seed
        self.emul = emul if emul is not None else Board(board)
        self.clock = self.emul.clock
        self.tick_ms = board.get("tick_ms", 10)
        self.dt_s = self.tick_ms / 1000.0
        self.body = Body(board, self.person)
        self.is_actuator = board.get("drive") == "actuator"
        self._level = self.emul.level
        self._drive = self.emul.drive
        self._mode = self.emul.mode

        # brake
        br = board.get("brake") or {}
        self._brake_pin = br.get("pin")
        self._release_level = br.get("release_level", 1)
        self._engage_s = br.get("engage_ms", 0) / 1000.0
        self._release_s = br.get("release_ms", br.get("engage_ms", 0)) / 1000.0
        self.brake_engaged = True
        self._brake_timer = 0.0
        self._brake_torque = self.body.brake_torque_nm

        # actuator and H-bridge
        self.actuator = None
        hb = board.get("hbridge") or {}
        self._wiring = hb.get("wiring", "pwm_dir")
        self._pwm_pin = hb.get("pwm", hb.get("in1"))
        self._dir_pin = hb.get("dir", hb.get("in2"))
        self._en_pin = hb.get("enable")
        self._ext_sign = 1.0 if hb.get("positive_duty_extends", True) else -1.0
        if self.is_actuator:
            self.actuator = Actuator(board, board["home_deg"])
            self.geometry = self.actuator.geom
            self.body.theta = self.actuator.theta_deg * DEG
        self.duty = 0.0          # firmware's signed command as the pins say it
        self.motor_duty = 0.0    # what reaches the motor, + = extend
        self.current_ma = 0.0
        self.vib = 0.0

        # sensors
        self.rng_adc = Rng(seed, 2)
        self._adc_lcg = self.rng_adc.next_u32()
        self._gauss = GAUSS_TABLE
        self.imu = None
        imu_cfg = board.get("imu")
        if imu_cfg:
            self.imu = Mpu6050(self, imu_cfg, Rng(seed, 1), self.clock)
            self.emul.add_i2c_device(imu_cfg.get("i2c_id", 0), imu_cfg.get("address", 0x68),
                                     self.imu)
        ps = board.get("position_sensor")
        if ps and self.actuator is not None:
            cal = ps["cal"]
            g = self.geometry
            self._pot_r0 = float(cal[0][0])
            self._pot_x0 = g.x_lo
            self._pot_scale = (float(cal[-1][0]) - float(cal[0][0])) / (g.x_hi - g.x_lo)
            self.emul.adc_source[ps["adc"]] = self._adc_position
        cs = board.get("current_sense")
        if cs:
            self._count_per_ma = 1.0 / float(cs.get("ma_per_count", 1))
            self._cur_offset = float(cs.get("offset_counts", 0))
            self.emul.adc_source[cs["adc"]] = self._adc_current

        # buttons and power
        bt = board.get("buttons") or {}
        self._active_low = bt.get("active_low", True)
        self._stop_nc = bt.get("stop_normally_closed", True)
        self.pressed = {}
        self.cut = {}
        self.powered = True
        self.estop_pressed = False
        self._estop_pin = board.get("estop_sense")
        for name in BUTTONS:
            if bt.get(name) is not None:
                self.pressed[name] = False
                self.cut[name] = False
                self._apply_button(name)
        self._update_estop_sense()

        # faults
        self.faults = {}
        self._stall = False
        self._runaway = None
        self._pinch_nm = 0.0
        self._slip_nm = None
        self._pos_open = None

        if theta_deg is not None:
            self.set_theta(theta_deg)
        else:
            self._sync_theta()

    # --- state -------------------------------------------------------------
    def _sync_theta(self):
        if self.actuator is not None:
            self.theta_deg = self.actuator.theta_deg
        else:
            self.theta_deg = self.body.theta * RAD
        self.rate_deg_s = 0.0

    def set_theta(self, theta_deg):
        """Put the table at theta_deg, at rest (scenario set-up, tests)."""
        b = self.board
        if theta_deg < b["mech_min_deg"]:
            theta_deg = b["mech_min_deg"]
        elif theta_deg > b["mech_max_deg"]:
            theta_deg = b["mech_max_deg"]
        if self.actuator is not None:
            self.actuator.set_theta(theta_deg)
            self.body.theta = self.actuator.theta_deg * DEG
        else:
            self.body.theta = theta_deg * DEG
        self.body.omega = 0.0
        self._sync_theta()

    @property
    def stroke_mm(self):
        return self.actuator.x if self.actuator is not None else 0.0

    @property
    def arms_up(self):
        return self.body.arms_target > 0.5

    @property
    def power_present(self):
        """True while the actuator/brake supply is on (supply on, e-stop out)."""
        return self.powered and not self.estop_pressed

    # --- the tick ------------------------------------------------------------
    def step(self, dt_ms=None):
        dt = self.dt_s if dt_ms is None else dt_ms / 1000.0
        lv = self._level
        power = self.powered and not self.estop_pressed
        body = self.body
        if body.arms_frac != body.arms_target:
            body.update_arms(dt)

        # brake: the pin asks, the armature follows after its delay
        # an undriven pin (not configured as an output, e.g. after a reset)
        # powers nothing, whatever its level
        bp = self._brake_pin
        release = (power and bp is not None and self._mode[bp] == 3
                   and lv[bp] == self._release_level)
        if release == self.brake_engaged:
            self._brake_timer += dt
            if self._brake_timer >= (self._release_s if release else self._engage_s) - 1e-9:
                self.brake_engaged = not release
                self._brake_timer = 0.0
        else:
            self._brake_timer = 0.0
        resist = body.friction_nm + self._pinch_nm
        if self.brake_engaged:
            resist += self._brake_torque if self._slip_nm is None else self._slip_nm

        act = self.actuator
        if act is not None:
            dr = self._drive
            if self._wiring == "in1_in2":
                cmd = (dr[self._pwm_pin] - dr[self._dir_pin]) / 65535.0
            elif lv[self._dir_pin]:
                cmd = dr[self._pwm_pin] / 65535.0
            else:
                cmd = -dr[self._pwm_pin] / 65535.0
            self.duty = cmd
            en = self._en_pin
            if power and (en is None or (lv[en] and self._mode[en] == 3)):
                d = cmd * self._ext_sign if self._runaway is None else self._runaway
            else:
                d = 0.0
            self.motor_duty = d
            if d == 0.0 and act.v == 0.0 and act.self_locking:
                self.current_ma = 0.0
                self.rate_deg_s = 0.0
                self.vib = 0.0
                return
            th = act.theta_deg * DEG
            tau_g = body.gs * math.cos(th) + body.gh * math.sin(th)
            act.step(dt, d, tau_g, resist, self._stall)
            self.current_ma = act.current_ma
            self.theta_deg = act.theta_deg
            body.theta = act.theta_deg * DEG
            v = act.v
            self.rate_deg_s = v / (1000.0 * act.lever_m) * RAD
            self.vib = (v if v >= 0.0 else -v) / act.v0
        else:
            body.step_free(dt, BRAKE_SUBSTEPS, resist)
            self.theta_deg = body.theta * RAD
            self.rate_deg_s = body.omega * RAD

    # --- sensors (called by the emulated ADC when the firmware reads) ----------
    def _adc_position(self):
        x = (self._adc_lcg * 1664525 + 1013904223) & 0xFFFFFFFF
        self._adc_lcg = x
        n = self._gauss[x >> 20]
        if self._pos_open is not None:
            n = n if n >= 0.0 else -n
            v = 4095.0 - 2.0 * n if self._pos_open == "high" else 2.0 * n
        else:
            v = (self._pot_r0 + (self.actuator.x - self._pot_x0) * self._pot_scale
                 + POT_NOISE_COUNTS * n)
        if v <= 0.0:
            return 0
        if v >= 4095.0:
            return 4095
        return int(v + 0.5)

    def _adc_current(self):
        x = (self._adc_lcg * 1664525 + 1013904223) & 0xFFFFFFFF
        self._adc_lcg = x
        v = (self.current_ma * self._count_per_ma + self._cur_offset
             + CURRENT_NOISE_COUNTS * self._gauss[x >> 20])
        if v <= 0.0:
            return 0
        if v >= 4095.0:
            return 4095
        return int(v + 0.5)

    # --- the person and the buttons --------------------------------------------
    def set_arms(self, up):
        self.body.set_arms(up)

    def _button_level(self, name):
        if self.cut[name]:
            # the pull resistor wins: 1 with pull-ups
            closed = False
        else:
            closed = self.pressed[name]
            if name == "stop" and self._stop_nc:
                closed = not closed
        closed_level = 0 if self._active_low else 1
        return closed_level if closed else 1 - closed_level

    def _apply_button(self, name):
        pin = self.board["buttons"][name]
        self.emul.set_input(pin, self._button_level(name))

    def _check_button(self, name):
        if name not in self.pressed:
            raise ValueError("no button %r on this board" % (name,))

    def press(self, name):
        if name == "estop":
            self.estop_pressed = True
            self._update_estop_sense()
            return
        self._check_button(name)
        self.pressed[name] = True
        self._apply_button(name)

    def release(self, name):
        if name == "estop":
            self.estop_pressed = False
            self._update_estop_sense()
            return
        self._check_button(name)
        self.pressed[name] = False
        self._apply_button(name)

    def cut_wire(self, name, cut=True):
        """A broken button wire: the pin reads its pull (STOP then reads pressed)."""
        self._check_button(name)
        self.cut[name] = cut
        self._apply_button(name)

    def _update_estop_sense(self):
        if self._estop_pin is not None:
            self.emul.set_input(self._estop_pin, 1 if self.power_present else 0)

    # --- power -------------------------------------------------------------------
    def power_off(self):
        """Supply cut: the MCU stops (its outputs read off), the brake engages,
        the actuator holds. The firmware must not be ticked until power_on()."""
        self.powered = False
        self.emul.hard_reset(PWRON_RESET)
        self._update_estop_sense()

    def power_on(self):
        """Supply back: the MCU boots (reset cause PWRON), the IMU is in its
        power-on reset state (asleep)."""
        self.powered = True
        self.emul.hard_reset(PWRON_RESET)
        if self.imu is not None:
            self.imu.power_on_reset()
        self._update_estop_sense()

    # --- faults --------------------------------------------------------------------
    def inject_fault(self, kind, **params):
        """Start a fault. True if this plant models it, False if it does not
        apply here (link_noise is the host link's; actuator faults on a brake
        board). Unknown kinds raise ValueError."""
        if kind not in FAULTS:
            raise ValueError("unknown fault %r" % (kind,))
        imu = self.imu
        act = self.actuator
        if kind == "imu_bus_error" and imu is not None:
            imu.bus_error_rate = float(params.get("rate", 1.0))
        elif kind == "imu_missing" and imu is not None:
            imu.missing = True
        elif kind == "imu_freeze" and imu is not None:
            imu.freeze = True
        elif kind == "imu_spike" and imu is not None:
            imu.spike_rate = float(params.get("rate", 0.05))
        elif kind == "imu_bias" and imu is not None:
            imu.set_bias_deg(float(params.get("value", 5.0)))
        elif kind == "position_sensor_open" and act is not None:
            self._pos_open = params.get("rail", "high")
        elif kind == "actuator_stall" and act is not None:
            self._stall = True
        elif kind == "actuator_runaway" and act is not None:
            # duty as the motor sees it; positive extends (head-down)
            self._runaway = float(params.get("duty", DEFAULT_RUNAWAY_DUTY))
        elif kind == "brake_slip":
            self._slip_nm = float(params.get("torque_nm",
                                             DEFAULT_SLIP_FRACTION * self._brake_torque))
        elif kind == "pinch":
            self._pinch_nm = float(params.get("torque_nm", DEFAULT_PINCH_NM))
        else:
            return False
        self.faults[kind] = params
        return True

    def clear_fault(self, kind):
        if kind not in FAULTS:
            raise ValueError("unknown fault %r" % (kind,))
        imu = self.imu
        if kind == "imu_bus_error" and imu is not None:
            imu.bus_error_rate = 0.0
        elif kind == "imu_missing" and imu is not None:
            imu.missing = False
        elif kind == "imu_freeze" and imu is not None:
            imu.freeze = False
        elif kind == "imu_spike" and imu is not None:
            imu.spike_rate = 0.0
        elif kind == "imu_bias" and imu is not None:
            imu.set_bias_deg(0.0)
        elif kind == "position_sensor_open":
            self._pos_open = None
        elif kind == "actuator_stall":
            self._stall = False
        elif kind == "actuator_runaway":
            self._runaway = None
        elif kind == "brake_slip":
            self._slip_nm = None
        elif kind == "pinch":
            self._pinch_nm = 0.0
        if kind in self.faults:
            del self.faults[kind]

