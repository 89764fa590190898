"""Build every driver from a validated board dict (boardcfg.load_board).

Usage::

    board = boardcfg.load_board("boards/esp32-devkitc-actuator.json")
    devices = setup_board(board, time.ticks_ms())
    devices.imu.check(); devices.imu.configure(); devices.imu.self_test()
    dog = devices.start_watchdog()      # only when the main loop starts

The actuator's enable line goes low and the brake is engaged before any other
pin, bus or peripheral is touched: whatever happens later in boot (a missing
IMU raising OSError, say), the table is held and the motor is unpowered.
Output pins are created at their safe level (Pin(..., value=...)), so they
never pass through the wrong level on the way. The IMU is not talked to
here: the boot sequence checks it, with the brake already on.

This is the only module in the drivers that imports machine, and mypy checks
these calls against the ESP32 stubs (mypy-hw.ini).
"""
import machine

from drivers.analog import CurrentSense, PositionSensor
from drivers.bedframe import BedFrame
from drivers.brake import Brake
from drivers.buttons import Buttons, DebouncedInput, EstopSense, pressed_level
from drivers.hbridge import In1In2Bridge, PwmDirBridge
from drivers.hostlink import HostLink
from drivers.imu_parts import make_imu
from drivers.indicators import TONE_HZ, Buzzer, Led
from drivers.watchdog import Watchdog

_UART_RXBUF_BYTES = 1024  # > 8 ticks of 115200 baud, so a slow tick loses nothing


class BoardDevices:
    """The drivers of one board; hbridge, position, current are None when absent."""

    def __init__(self, board, brake, hbridge, imu, bedframe, position, current, buttons,
                 estop, buzzer, led, hostlink):
        self.board = board
        self.brake = brake
        self.hbridge = hbridge
        self.imu = imu
        self.bedframe = bedframe
        self.level_offset_mdeg = board["imu"]["level_offset_mdeg"]
        self.position = position
        self.current = current
        self.buttons = buttons
        self.estop = estop
        self.buzzer = buzzer
        self.led = led
        self.hostlink = hostlink

    def start_watchdog(self) -> Watchdog:
        """Start the hardware watchdog; it can never be stopped afterwards."""
        timeout_ms = self.board["watchdog_ms"]
        return Watchdog(machine.WDT(timeout=timeout_ms), timeout_ms)


def _out(pin, level):
    return machine.Pin(pin, machine.Pin.OUT, value=level)


def _pwm(pin, freq_hz):
    return machine.PWM(_out(pin, 0), freq=freq_hz, duty_u16=0)


def _adc(pin):
    return machine.ADC(machine.Pin(pin), atten=machine.ADC.ATTN_11DB)


def setup_board(board: dict, now_ms: int = 0) -> BoardDevices:
    bridge = board["hbridge"]

    # Fail-safe first: actuator power off, then the brake on.
    enable_pin = _out(bridge["enable"], 0) if bridge is not None else None
    brake_cfg = board["brake"]
    brake = Brake(_out(brake_cfg["pin"], 1 - brake_cfg["release_level"]),
                  brake_cfg["release_level"], brake_cfg["engage_ms"])
    hbridge = None  # type: PwmDirBridge | In1In2Bridge | None
    if bridge is not None and enable_pin is not None:
        if bridge["wiring"] == "pwm_dir":
            hbridge = PwmDirBridge(_pwm(bridge["pwm"], bridge["pwm_freq_hz"]),
                                   _out(bridge["dir"], 0), enable_pin,
                                   bridge["positive_duty_extends"])
        else:
            hbridge = In1In2Bridge(_pwm(bridge["in1"], bridge["pwm_freq_hz"]),
                                   _pwm(bridge["in2"], bridge["pwm_freq_hz"]),
                                   enable_pin, bridge["positive_duty_extends"])

    imu_cfg = board["imu"]
    i2c = machine.I2C(imu_cfg["i2c_id"], scl=machine.Pin(imu_cfg["scl"]),
                      sda=machine.Pin(imu_cfg["sda"]), freq=imu_cfg["freq_hz"])
    imu = make_imu(imu_cfg["part"], i2c, imu_cfg["address"])
    bedframe = BedFrame(imu, imu_cfg["along"], imu_cfg["normal"], imu_cfg["pitch"])

    position = None
    if board["position_sensor"] is not None:
        sensor = board["position_sensor"]
        position = PositionSensor(_adc(sensor["adc"]), sensor["cal"])
    current = None
    if board["current_sense"] is not None:
        sense = board["current_sense"]
        current = CurrentSense(_adc(sense["adc"]), sense["ma_per_count"], sense["offset_counts"])

    buttons_cfg = board["buttons"]
    active_low = buttons_cfg["active_low"]
    pull = machine.Pin.PULL_UP if active_low else machine.Pin.PULL_DOWN

    def button(key, normally_closed):
        pin = machine.Pin(buttons_cfg[key], machine.Pin.IN, pull)
        level = pressed_level(active_low, normally_closed)
        if normally_closed:
            # STOP: pressed on the first open reading; only release is debounced.
            return DebouncedInput(pin, level, press_ms=0, now_ms=now_ms)
        return DebouncedInput(pin, level, now_ms=now_ms)

    buttons = Buttons(
        button("stop", buttons_cfg["stop_normally_closed"]),
        button("start", False), button("up", False), button("down", False),
        button("attendant", False) if buttons_cfg["attendant"] is not None else None)
    # Pull-down: a broken sense wire reads as "rail cut", the safe reading.
    estop = EstopSense(machine.Pin(board["estop_sense"], machine.Pin.IN, machine.Pin.PULL_DOWN),
                       now_ms=now_ms)

    buzzer = Buzzer(_pwm(board["buzzer"], TONE_HZ))
    led = Led(_out(board["led"], 0))

    uart = board["host_uart"]
    if "tx" in uart:
        port = machine.UART(uart["id"], uart["baud"], tx=machine.Pin(uart["tx"]),
                            rx=machine.Pin(uart["rx"]), timeout=0, rxbuf=_UART_RXBUF_BYTES)
    else:
        port = machine.UART(uart["id"], uart["baud"], timeout=0, rxbuf=_UART_RXBUF_BYTES)

    return BoardDevices(board, brake, hbridge, imu, bedframe, position, current, buttons,
                        estop, buzzer, led, HostLink(port))
