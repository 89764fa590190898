"""The emulated MCU board behind simulator.machine: pins, PWM, ADC, I2C,
UART, timers, watchdog and the virtual clock.

Usage (simulator side)::

    emul = Board(board_dict)              # or Board(board_dict, clock=VirtualClock())
    machine.install(emul)                 # firmware's `import machine` now sees it
    emul.set_input(4, 0)                  # drive an input pin from outside
    emul.level[25], emul.drive[25]        # what the firmware put on a pin
    emul.adc_source[34] = fn              # fn() -> 12-bit counts, called per read
    emul.add_i2c_device(0, 0x68, dev)     # dev: present(), readinto(reg, buf), write(reg, data)
    emul.uart(0).host_write(b"ping\\n"); emul.uart(0).host_read()
    emul.advance(10)                      # 10 ms: fires due timers, checks the watchdog
    emul.reset_pending                    # None, or the cause of a reset to carry out
    emul.hard_reset(machine.WDT_RESET)    # the runner carries it out

Pins: level[n] is the level on the wire (0/1): for an output, what the
firmware wrote; for an input, what set_input() put there, or the pull when
nothing drives it (floating reads 0). drive[n] is the output's drive as a
16-bit duty: the PWM duty on a PWM pin, else 65535 x level; 0 for inputs.

Resets: WDT expiry, machine.reset() or deepsleep() set reset_pending (and
call on_reset(cause) when set). A firmware sleep (time.sleep_ms ... through
fw_sleep_us) stops at the reset instant and raises MachineReset; the
runner's advance() runs on to its target and does not raise. hard_reset()
then returns the MCU side to its power-on state (pins unconfigured, PWM
and timers stopped, watchdog off, UART buffers empty) with reset_cause set;
external devices (I2C parts, ADC sources) and the clock carry on.
"""
from .clock import VirtualClock

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

NPINS = 64


class MachineReset(BaseException):
    """The chip reset (machine.reset(), watchdog, deep sleep); args[0] is the cause.

    A BaseException, so the firmware's `except Exception` does not swallow it."""

    @property
    def cause(self):
        return self.args[0] if self.args else HARD_RESET

# GPIOs that exist, and those that can only be inputs
_ESP32_PINS = tuple(range(0, 20)) + (21, 22, 23, 25, 26, 27) + tuple(range(32, 40))
_ESP32_INPUT_ONLY = (34, 35, 36, 37, 38, 39)
_ESP32S3_PINS = tuple(range(0, 22)) + tuple(range(26, 49))
# ADC-capable GPIOs (ADC1 and ADC2)
_ESP32_ADC = (0, 2, 4, 12, 13, 14, 15, 25, 26, 27, 32, 33, 34, 35, 36, 37, 38, 39)
_ESP32S3_ADC = tuple(range(1, 21))

# approximate full-scale input (mV) by attenuation, index = ADC.ATTN_*
ADC_FULL_SCALE_MV = (950, 1250, 1750, 3100)
ATTN_11DB = 3


class UartChannel:
    """One UART: firmware side (rx/tx FIFOs) and host side, paced at baud/10 B/s.

    Bytes the host writes arrive in the firmware's RX FIFO at line rate (and
    are dropped past rxbuf, as the driver does); bytes the firmware writes
    wait in a TX FIFO of txbuf bytes (write() takes what fits, like a
    non-blocking write) and reach the host at line rate.
    """

    def __init__(self, clock, baudrate=115200, rxbuf=256, txbuf=256):
        self.clock = clock
        self.baudrate = baudrate
        self.rxbuf = rxbuf
        self.txbuf = txbuf
        self.clear()

    def clear(self):
        self._in_flight = bytearray()   # host -> fw, not yet on the wire
        self._rx = bytearray()          # fw RX FIFO
        self._tx = bytearray()          # fw TX FIFO
        self._to_host = bytearray()     # arrived at the host
        self._last_us = self.clock.now_us
        self._credit = 0.0
        self.rx_overflow = 0

    def _pump(self):
        now = self.clock.now_us
        dt = now - self._last_us
        if dt <= 0:
            return
        self._last_us = now
        if not self._in_flight and not self._tx:
            # Nothing on the wire (the usual tick): no credit is carried.
            self._credit = 0.0
            return
        nbytes = dt * self.baudrate / 10000000.0 + self._credit
        n = int(nbytes)
        self._credit = nbytes - n if (self._in_flight or self._tx) else 0.0
        if n <= 0:
            return
        if self._in_flight:
            chunk = self._in_flight[:n]
            self._in_flight = self._in_flight[n:]
            room = self.rxbuf - len(self._rx)
            if len(chunk) > room:
                self.rx_overflow += len(chunk) - (room if room > 0 else 0)
                chunk = chunk[:room] if room > 0 else b""
            self._rx.extend(chunk)
        if self._tx:
            self._to_host.extend(self._tx[:n])
            self._tx = self._tx[n:]

    # host side
    def host_write(self, data):
        self._pump()
        self._in_flight.extend(data)

    def host_read(self):
        """Everything that has reached the host so far (and forget it)."""
        self._pump()
        out = bytes(self._to_host)
        self._to_host = bytearray()
        return out

    def flush_instant(self):
        """Deliver everything pending at once (tests, or an unpaced link)."""
        self._rx.extend(self._in_flight)
        self._in_flight = bytearray()
        self._to_host.extend(self._tx)
        self._tx = bytearray()

    # firmware side
    def any(self):
        if self._in_flight or self._tx:
            self._pump()
        else:
            # _pump with nothing on the wire, inlined: the firmware polls
            # every tick and almost always finds nothing.
            now = self.clock.now_us
            if now > self._last_us:
                self._last_us = now
                self._credit = 0.0
        return len(self._rx)

    def read(self, n=-1):
        self._pump()
        if not self._rx:
            return None
        if n is None or n < 0 or n >= len(self._rx):
            out = bytes(self._rx)
            self._rx = bytearray()
        else:
            out = bytes(self._rx[:n])
            self._rx = self._rx[n:]
        return out

    def readinto(self, buf, nbytes=-1):
        self._pump()
        if not self._rx:
            return None
        n = len(buf)
        if nbytes is not None and 0 <= nbytes < n:
            n = nbytes
        if n > len(self._rx):
            n = len(self._rx)
        buf[0:n] = self._rx[:n]
        self._rx = self._rx[n:]
        return n

    def readline(self):
        self._pump()
        if not self._rx:
            return None
        i = self._rx.find(b"\n")
        n = len(self._rx) if i < 0 else i + 1
        out = bytes(self._rx[:n])
        self._rx = self._rx[n:]
        return out

    def write(self, data):
        self._pump()
        room = self.txbuf - len(self._tx)
        if room <= 0:
            return 0
        if isinstance(data, str):
            data = data.encode()
        n = len(data) if len(data) < room else room
        self._tx.extend(data[:n])
        return n

    def txdone(self):
        self._pump()
        return not self._tx


def _timer_id(t):
    return t.id


class _Timer:
    def __init__(self, board, tid):
        self.board = board
        self.id = tid
        self.period_us = 0
        self.due_us = 0
        self.periodic = True
        self.callback = None
        self.active = False
        self.handle = None   # the machine.Timer the callback receives


class Board:
    def __init__(self, board_dict=None, clock=None):
        self.cfg = board_dict or {}
        self.name = self.cfg.get("name", "sim")
        mcu = self.cfg.get("mcu", "esp32")
        if mcu == "esp32s3":
            self.valid_pins = _ESP32S3_PINS
            self.input_only = ()
            self.adc_pins = _ESP32S3_ADC
        else:
            self.valid_pins = _ESP32_PINS
            self.input_only = _ESP32_INPUT_ONLY
            self.adc_pins = _ESP32_ADC
        self.clock = clock if clock is not None else VirtualClock()
        self.clock.hook = self._run_until
        self.level = [0] * NPINS
        self.drive = [0] * NPINS
        self.ext = [None] * NPINS
        self.mode = [None] * NPINS
        self.pull = [None] * NPINS
        self.pwm_on = [False] * NPINS
        self.pwm_freq = [0] * NPINS
        self.pwm_duty = [0] * NPINS
        self.irq = [None] * NPINS
        self.adc_source = {}
        self.adc_atten = [0] * NPINS
        self.i2c_devices = {}
        self.uarts = {}
        self.timers = {}
        self._next_due = None
        self.wdt_timeout_us = None
        self.wdt_last_feed_us = 0
        self.wdt_fired = False
        self.reset_cause = PWRON_RESET
        self.reset_pending = None
        self.on_reset = None
        self.cpu_hz = 240000000
        self.resets = 0
        self._fw_sleep = False

    # --- pins -------------------------------------------------------------
    def check_pin(self, n):
        if n not in self.valid_pins:
            raise ValueError("invalid pin")

    def configure_pin(self, n, mode, pull):
        if mode is not None:
            if mode != 1 and n in self.input_only:  # Pin.IN == 1
                raise ValueError("pin can only be input")
            self.mode[n] = mode
        if pull is not None:
            self.pull[n] = pull if pull != 0 else None
        self._settle(n)

    def _settle(self, n):
        mode = self.mode[n]
        if mode == 3 or (mode == 7 and self.level[n] == 0):  # OUT, or open drain pulling low
            return
        e = self.ext[n]
        if e is None:
            e = 1 if self.pull[n] == 2 else 0  # Pin.PULL_UP == 2
        self._set_level(n, e)

    def _set_level(self, n, v):
        old = self.level[n]
        self.level[n] = v
        if old != v and self.irq[n] is not None:
            handler, trigger, pin = self.irq[n]
            if (v and trigger & 1) or (not v and trigger & 2):  # IRQ_RISING, IRQ_FALLING
                handler(pin)

    def write_pin(self, n, v):
        v = 1 if v else 0
        if v and self.mode[n] == 7:     # open drain released: the wire decides
            self.level[n] = 1
            self._settle(n)
        else:
            # _set_level inlined: outputs are written several times a tick,
            # mostly with the level they already have
            level = self.level
            old = level[n]
            level[n] = v
            if old != v:
                irq = self.irq[n]
                if irq is not None:
                    handler, trigger, pin = irq
                    if (v and trigger & 1) or (not v and trigger & 2):  # IRQ_RISING, IRQ_FALLING
                        handler(pin)
        if not self.pwm_on[n]:
            # mode read again: an interrupt handler may have changed it
            self.drive[n] = 65535 if (v and self.mode[n] == 3) else 0

    def set_input(self, n, v):
        """Drive pin n from outside (button, sense line); None = let it float."""
        self.ext[n] = v
        if self.mode[n] != 3:
            self._settle(n)

    def set_pwm(self, n, freq, duty_u16):
        self.pwm_on[n] = True
        if freq is not None:
            self.pwm_freq[n] = freq
        if duty_u16 is not None:
            if duty_u16 < 0:
                duty_u16 = 0
            elif duty_u16 > 65535:
                duty_u16 = 65535
            self.pwm_duty[n] = duty_u16
        self.drive[n] = self.pwm_duty[n]

    def stop_pwm(self, n):
        self.pwm_on[n] = False
        self.pwm_duty[n] = 0
        self.drive[n] = 65535 if (self.level[n] and self.mode[n] == 3) else 0

    # --- ADC ---------------------------------------------------------------
    def adc_read12(self, n):
        src = self.adc_source.get(n)
        raw = src() if src is not None else 0
        atten = self.adc_atten[n]
        if atten != ATTN_11DB:
            # The sources give counts at 11 dB; a narrower range saturates sooner.
            raw = raw * ADC_FULL_SCALE_MV[ATTN_11DB] // ADC_FULL_SCALE_MV[atten]
            if raw > 4095:
                raw = 4095
        return raw

    # --- I2C ---------------------------------------------------------------
    def add_i2c_device(self, bus_id, addr, dev):
        self.i2c_devices.setdefault(bus_id, {})[addr] = dev

    def i2c_device(self, bus_id, addr):
        dev = self.i2c_devices.get(bus_id, {}).get(addr)
        if dev is None or not dev.present():
            raise OSError(19)  # ENODEV: no ACK, as the ESP32 port reports
        return dev

    def i2c_scan(self, bus_id):
        return sorted(a for a, d in self.i2c_devices.get(bus_id, {}).items() if d.present())

    # --- UART --------------------------------------------------------------
    def uart(self, uid, baudrate=None):
        ch = self.uarts.get(uid)
        if ch is None:
            hu = self.cfg.get("host_uart") or {}
            ch = UartChannel(self.clock, baudrate or hu.get("baud", 115200))
            self.uarts[uid] = ch
        elif baudrate:
            ch.baudrate = baudrate
        return ch

    # --- timers and the watchdog ---------------------------------------------
    def timer(self, tid):
        t = self.timers.get(tid)
        if t is None:
            t = _Timer(self, tid)
            self.timers[tid] = t
        return t

    def start_timer(self, t, period_us, periodic, callback):
        if period_us <= 0:
            raise ValueError("period must be positive")
        t.period_us = period_us
        t.periodic = periodic
        t.callback = callback
        t.due_us = self.clock.now_us + period_us
        t.active = True
        self._recompute_due()

    def stop_timer(self, t):
        t.active = False
        self._recompute_due()

    def _recompute_due(self):
        due = None
        for t in self.timers.values():
            if t.active and (due is None or t.due_us < due):
                due = t.due_us
        self._next_due = due

    def wdt_start(self, timeout_ms):
        self.wdt_timeout_us = int(timeout_ms) * 1000
        self.wdt_last_feed_us = self.clock.now_us

    def wdt_feed(self):
        self.wdt_last_feed_us = self.clock.now_us

    def advance(self, ms):
        """Let ms of virtual time pass (runner side: never raises for resets)."""
        self.clock.advance_us(int(ms) * 1000)

    def fw_sleep_us(self, us):
        """A sleep inside the firmware: time passes, timers fire; if the chip
        resets meanwhile, time stops at that instant and MachineReset is raised."""
        if self.reset_pending is not None:
            raise MachineReset(self.reset_pending)
        self._fw_sleep = True
        try:
            self.clock.advance_us(us)
        finally:
            self._fw_sleep = False
        if self.reset_pending is not None:
            raise MachineReset(self.reset_pending)

    def _run_until(self, target):
        clock = self.clock
        while True:
            due = self._next_due
            timeout = self.wdt_timeout_us
            if timeout is not None:
                # expires once more than timeout has passed since the last feed
                wdt = self.wdt_last_feed_us + timeout + 1
                if wdt <= target and (due is None or wdt <= due):
                    clock.now_us = wdt
                    self.wdt_fired = True
                    self.wdt_timeout_us = None
                    self.request_reset(WDT_RESET)
                    if self._fw_sleep:
                        return
                    continue
            if due is None or due > target:
                break
            clock.now_us = due
            ts = self.timers
            if len(ts) == 1:
                # One timer (the firmware's lease timer, every tick): the
                # earliest due time is simply its own (_recompute_due inlined).
                for t in ts.values():
                    if t.active and t.due_us <= due:
                        if t.periodic:
                            t.due_us += t.period_us
                        else:
                            t.active = False
                        self._next_due = t.due_us if t.active else None
                        if t.callback is not None:
                            t.callback(t.handle if t.handle is not None else t)
                        if self._fw_sleep and self.reset_pending is not None:
                            return
                if self.timers is ts and len(ts) == 1:
                    self._next_due = t.due_us if t.active else None
                    continue
            else:
                # by id, not dict order: MicroPython's dicts do not keep insertion order
                for t in sorted(ts.values(), key=_timer_id):
                    if t.active and t.due_us <= due:
                        if t.periodic:
                            t.due_us += t.period_us
                        else:
                            t.active = False
                        self._recompute_due()
                        if t.callback is not None:
                            t.callback(t.handle if t.handle is not None else t)
                        if self._fw_sleep and self.reset_pending is not None:
                            return
            self._recompute_due()
        if clock.now_us < target:
            clock.now_us = target

    def request_reset(self, cause):
        """The chip resets: stop its timers and watchdog, let the runner know."""
        if self.reset_pending is None:
            self.reset_pending = cause
        for t in self.timers.values():
            t.active = False
        self._next_due = None
        self.wdt_timeout_us = None
        if self.on_reset is not None:
            self.on_reset(cause)

    def hard_reset(self, cause=HARD_RESET):
        """Return the MCU side to its power-on state; reset_cause() -> cause."""
        for n in range(NPINS):
            self.mode[n] = None
            self.pull[n] = None
            self.pwm_on[n] = False
            self.pwm_duty[n] = 0
            self.drive[n] = 0
            self.irq[n] = None
            e = self.ext[n]
            self.level[n] = e if e is not None else 0
        self.adc_atten = [0] * NPINS
        self.timers = {}
        self._next_due = None
        self.wdt_timeout_us = None
        self.wdt_fired = False
        for ch in self.uarts.values():
            ch.clear()
        self.reset_cause = cause
        self.reset_pending = None
        self.resets += 1
