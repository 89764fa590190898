"""Micro-benchmark: plant cost per 10 ms control tick, for each board.

    .venv/bin/python -m simulator.bench_plant [ticks]

Prints, per board, microseconds per tick for
  step   - Plant.step() alone (physics, pins in),
  +io    - step + what a firmware tick reads and writes through the emulated
           machine module: one 14-byte IMU burst, the ADCs the board has, the
           buttons and e-stop pins, one PWM duty write, the clock advance.
The table moves most of the time (the costly case): a slow duty sweep on
the actuator board, arms up / brake released for half of each cycle on the
brake board.
"""
import json
import sys
import time

from . import machine as sim_machine
from .plant import Plant

BOARDS = ("esp32-devkitc-actuator", "esp32s3-brake")


def _load(name, root):
    with open("%s/boards/%s.json" % (root, name)) as f:
        return json.load(f)


def _now():
    if hasattr(time, "perf_counter"):
        return time.perf_counter()
    return time.ticks_us() / 1e6  # MicroPython


def bench(board, ticks, with_io):
    plant = Plant(board, None, seed=1)
    emul = plant.emul
    sim_machine.install(emul)
    try:
        m = sim_machine
        imu_cfg = board["imu"]
        i2c = m.I2C(imu_cfg["i2c_id"], scl=m.Pin(imu_cfg["scl"]), sda=m.Pin(imu_cfg["sda"]))
        i2c.writeto_mem(imu_cfg["address"], 0x6B, b"\x01")
        emul.advance(100)
        buf = bytearray(14)
        addr = imu_cfg["address"]
        adcs = []
        for key in ("position_sensor", "current_sense"):
            if board.get(key):
                a = m.ADC(m.Pin(board[key]["adc"]), atten=m.ADC.ATTN_11DB)
                adcs.append(a)
        pins = [m.Pin(board["buttons"][n], m.Pin.IN) for n in ("stop", "start", "up", "down")]
        pins.append(m.Pin(board["estop_sense"], m.Pin.IN))
        brake = m.Pin(board["brake"]["pin"], m.Pin.OUT, value=1)
        pwm = None
        if board.get("hbridge"):
            hb = board["hbridge"]
            pwm = m.PWM(m.Pin(hb["pwm"]), freq=hb["pwm_freq_hz"], duty_u16=40000)
            dirp = m.Pin(hb["dir"], m.Pin.OUT, value=1)
            m.Pin(hb["enable"], m.Pin.OUT, value=1)
        step = plant.step
        tick_ms = board["tick_ms"]
        t0 = _now()
        for k in range(ticks):
            phase = k % 2000
            if pwm is not None:
                if phase == 0:
                    dirp.value(1)
                elif phase == 1000:
                    dirp.value(0)
            elif phase == 0:
                plant.set_arms(True)
                brake.value(1)
            elif phase == 1000:
                plant.set_arms(False)
            step()
            if with_io:
                i2c.readfrom_mem_into(addr, 0x3B, buf)
                for a in adcs:
                    a.read_u16()
                for p in pins:
                    p.value()
                if pwm is not None:
                    pwm.duty_u16(40000)
                emul.advance(tick_ms)
        t1 = _now()
    finally:
        sim_machine.uninstall()
    return (t1 - t0) * 1e6 / ticks


def main(argv):
    ticks = int(argv[1]) if len(argv) > 1 else 180000
    root = "."
    for name in BOARDS:
        board = _load(name, root)
        us_step = bench(board, ticks, False)
        us_io = bench(board, ticks, True)
        print("%-24s step %5.2f us/tick   step+io %5.2f us/tick   (%d ticks)"
              % (name, us_step, us_io, ticks))


if __name__ == "__main__":
    main(sys.argv)
