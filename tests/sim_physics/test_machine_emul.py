"""Emulated machine module, virtual clock and board wiring conventions."""
import sys

import pytest

from simrig import ACTUATOR, BRAKE, load_board
from simulator import machine as sim_machine
from simulator import vtime
from simulator.board_emul import Board, WDT_RESET, PWRON_RESET, HARD_RESET
from simulator.clock import VirtualClock, TICKS_PERIOD, ticks_diff, ticks_add


def test_ticks_wrap_like_micropython():
    clk = VirtualClock(start_ms=TICKS_PERIOD - 5)
    t0 = clk.ticks_ms()
    assert t0 == TICKS_PERIOD - 5
    clk.advance(10)
    t1 = clk.ticks_ms()
    assert t1 == 5
    assert ticks_diff(t1, t0) == 10
    assert ticks_diff(t0, t1) == -10
    assert ticks_add(t0, 10) == t1
    assert clk.ticks_diff(ticks_add(t0, -20), t0) == -20
    us0 = clk.ticks_us()
    clk.sleep_us(1500)
    assert ticks_diff(clk.ticks_us(), us0) == 1500
    assert clk.now_ms() == 10 + 1


def test_install_binds_time_and_restores_it():
    real_time = sys.modules["time"]
    emul = Board(load_board(ACTUATOR))
    sim_machine.install(emul)
    try:
        import time
        import machine
        assert machine is sim_machine
        assert time is vtime
        t0 = time.ticks_ms()
        time.sleep_ms(25)
        assert time.ticks_diff(time.ticks_ms(), t0) == 25
        assert emul.clock.now_us == 25000
        assert callable(time.perf_counter)          # CPython extras still there
    finally:
        sim_machine.uninstall()
    assert sys.modules["time"] is real_time


def test_sequential_boards_reinstall():
    a = Board(load_board(ACTUATOR))
    b = Board(load_board(BRAKE))
    sim_machine.install(a)
    pa = sim_machine.Pin(2, sim_machine.Pin.OUT, value=1)
    sim_machine.install(b)
    pb = sim_machine.Pin(48, sim_machine.Pin.OUT, value=1)   # only on the S3
    vtime.sleep_ms(5)
    sim_machine.uninstall()
    assert a.level[2] == 1 and b.level[48] == 1
    assert pa.value() == 1 and pb.value() == 1
    assert b.clock.now_us == 5000 and a.clock.now_us == 0


def test_pins_modes_and_invalid_pins(rig_factory):
    rig = rig_factory(ACTUATOR)
    m = rig.m
    with pytest.raises(ValueError):
        m.Pin(20)                       # no GPIO20 on the ESP32
    with pytest.raises(ValueError):
        m.Pin(34, m.Pin.OUT)            # input only
    p = m.Pin(13, m.Pin.IN, m.Pin.PULL_UP)
    assert p.value() == 1
    rig.emul.set_input(13, 0)
    assert p.value() == 0
    q = m.Pin(14, m.Pin.OUT, value=1)
    assert q() == 1 and rig.emul.drive[14] == 65535
    q.off()
    assert rig.emul.level[14] == 0


def test_pwm_duty_and_freq(rig_factory):
    rig = rig_factory(ACTUATOR)
    m = rig.m
    pwm = m.PWM(m.Pin(23), freq=2700, duty_u16=1000)
    assert pwm.freq() == 2700 and pwm.duty_u16() == 1000
    pwm.duty_u16(65535)
    assert rig.emul.drive[23] == 65535
    pwm.deinit()
    assert rig.emul.drive[23] == 0


@pytest.mark.parametrize("name", [ACTUATOR, BRAKE])
def test_buttons_and_estop_levels(rig_factory, name):
    rig = rig_factory(name)
    bt = rig.board["buttons"]
    lv = rig.emul.level
    for b in ("start", "up", "down", "attendant"):
        assert lv[bt[b]] == 1
        rig.plant.press(b)
        assert lv[bt[b]] == 0
        rig.plant.release(b)
        assert lv[bt[b]] == 1
    assert lv[bt["stop"]] == 0                       # normally closed
    rig.plant.press("stop")
    assert lv[bt["stop"]] == 1
    rig.plant.release("stop")
    assert lv[bt["stop"]] == 0
    rig.plant.cut_wire("stop")
    assert lv[bt["stop"]] == 1                       # a cut wire reads pressed
    rig.plant.cut_wire("stop", False)
    es = rig.board["estop_sense"]
    assert lv[es] == 1
    rig.plant.press("estop")
    assert lv[es] == 0
    rig.plant.release("estop")
    rig.plant.power_off()
    assert lv[es] == 0
    rig.plant.power_on()
    assert lv[es] == 1
    # inputs read through machine.Pin the way the firmware does
    m = rig.m
    assert m.Pin(bt["start"], m.Pin.IN, m.Pin.PULL_UP).value() == 1


def test_timer_callbacks_fire_at_their_virtual_times(rig_factory):
    rig = rig_factory(ACTUATOR)
    m = rig.m
    clk = rig.emul.clock
    seen = []
    once = []
    t = m.Timer(0)
    t.init(period=10, mode=m.Timer.PERIODIC, callback=lambda tm: seen.append(clk.now_us))
    m.Timer(1, mode=m.Timer.ONE_SHOT, period=25, callback=lambda tm: once.append((tm, clk.now_us)))
    rig.emul.advance(55)
    assert seen == [10000, 20000, 30000, 40000, 50000]
    assert len(once) == 1 and once[0][1] == 25000
    t.deinit()
    rig.emul.advance(50)
    assert len(seen) == 5
    # the firmware's own sleep runs timers too
    t.init(freq=100, callback=lambda tm: seen.append(clk.now_us))
    vtime.sleep_ms(20)
    assert seen[-2:] == [115000, 125000]


def test_wdt_unfed_resets(rig_factory):
    rig = rig_factory(ACTUATOR)
    m = rig.m
    emul = rig.emul
    causes = []
    emul.on_reset = causes.append
    wdt = m.WDT(timeout=1000)
    for _ in range(30):
        emul.advance(100)
        wdt.feed()
    assert emul.reset_pending is None
    emul.advance(1000)
    assert emul.reset_pending is None                # exactly the timeout: not yet
    emul.advance(1)
    assert emul.wdt_fired and emul.reset_pending == WDT_RESET
    assert causes == [WDT_RESET]
    with pytest.raises(sim_machine.MachineReset):
        vtime.sleep_ms(1)                            # the firmware is unwound
    emul.hard_reset(WDT_RESET)
    assert m.reset_cause() == m.WDT_RESET
    assert emul.reset_pending is None and not emul.wdt_fired


def test_wdt_fires_inside_a_firmware_sleep(rig_factory):
    rig = rig_factory(ACTUATOR)
    m = rig.m
    m.WDT(timeout=200)
    with pytest.raises(sim_machine.MachineReset) as err:
        while True:
            vtime.sleep_ms(50)                       # a stuck loop
    assert err.value.cause == m.WDT_RESET
    assert rig.emul.clock.now_us == 200001


def test_machine_reset_and_constants(rig_factory):
    rig = rig_factory(ACTUATOR)
    m = rig.m
    assert m.reset_cause() == m.PWRON_RESET == PWRON_RESET
    assert len({m.PWRON_RESET, m.HARD_RESET, m.WDT_RESET, m.DEEPSLEEP_RESET,
                m.SOFT_RESET}) == 5
    with pytest.raises(sim_machine.MachineReset):
        try:
            m.reset()
        except Exception:           # firmware-style catch-all must not swallow it
            pytest.fail("MachineReset caught as Exception")
    assert rig.emul.reset_pending == HARD_RESET
    assert len(m.unique_id()) == 6 and m.freq() == 240000000


def test_uart_is_paced_at_the_baud_rate(rig_factory):
    rig = rig_factory(ACTUATOR)
    m = rig.m
    u = m.UART(0, 115200, timeout=0)
    ch = rig.emul.uart(0)
    assert u.any() == 0 and u.read() is None
    ch.host_write(b"status\n")
    assert u.any() == 0                              # still on the wire
    rig.emul.advance(1)
    buf = bytearray(64)
    n = u.readinto(buf, 64)
    assert bytes(buf[:n]) == b"status\n"[:n] and n >= 7
    assert u.write(b"ok\n") == 3
    assert ch.host_read() == b""
    rig.emul.advance(1)
    assert ch.host_read() == b"ok\n"
    # a flood: the 256-byte TX FIFO takes what fits
    assert u.write(b"x" * 1000) == 256


def test_adc_scaling_matches_the_esp32_port(rig_factory):
    rig = rig_factory(ACTUATOR)
    m = rig.m
    rig.emul.adc_source[32] = lambda: 4095
    a = m.ADC(m.Pin(32), atten=m.ADC.ATTN_11DB)
    assert a.read_u16() == 65535 and a.read() == 4095
    rig.emul.adc_source[32] = lambda: 400
    assert a.read_u16() >> 4 == 400
    with pytest.raises(ValueError):
        m.ADC(m.Pin(21))
