"""Open-loop plant run that prints its trace; the same on CPython and MicroPython.

    python -m simulator.openloop_trace BOARD [SEED [SECONDS]]
    micropython -m simulator.openloop_trace BOARD [SEED [SECONDS]]

(run from the repository root). A fixed script of pin levels, arm moves,
button presses and faults drives the plant through the emulated machine
module, and every tick it reads the IMU burst and the ADCs as a firmware
would. Each line: tick, theta_deg (%.9f), rate, stroke, current, brake,
then the 7 IMU words and the ADC counts, so two runs can be compared
line by line (tests/sim_physics/test_vm_parity.py does).
"""
import json
import sys

from . import machine as sim_machine
from .plant import Plant


def run(board, seed, seconds, out):
    plant = Plant(board, {"mass_kg": 80, "height_cm": 178}, seed)
    emul = plant.emul
    m = sim_machine.install(emul)
    try:
        imu_cfg = board["imu"]
        addr = imu_cfg["address"]
        i2c = m.I2C(imu_cfg["i2c_id"], scl=m.Pin(imu_cfg["scl"]), sda=m.Pin(imu_cfg["sda"]))
        i2c.writeto_mem(addr, 0x6B, b"\x80")
        emul.advance(100)
        i2c.writeto_mem(addr, 0x6B, b"\x01")
        i2c.writeto_mem(addr, 0x19, b"\x09")
        i2c.writeto_mem(addr, 0x1A, b"\x03")
        buf = bytearray(14)
        adcs = []
        for key in ("position_sensor", "current_sense"):
            if board.get(key):
                adcs.append(m.ADC(m.Pin(board[key]["adc"]), atten=m.ADC.ATTN_11DB))
        brake = m.Pin(board["brake"]["pin"], m.Pin.OUT, value=0)
        rel = board["brake"]["release_level"]
        hb = board.get("hbridge")
        if hb:
            pwm = m.PWM(m.Pin(hb["pwm"]), freq=hb["pwm_freq_hz"], duty_u16=0)
            dirp = m.Pin(hb["dir"], m.Pin.OUT, value=1)
            en = m.Pin(hb["enable"], m.Pin.OUT, value=1)
        tick_ms = board["tick_ms"]
        ticks = int(seconds * 1000 // tick_ms)
        for k in range(ticks):
            t = k * tick_ms
            if hb:
                # up at full duty, pause, down at 40 %, up again into a pinch,
                # then a runaway cut by the enable line
                if t == 500:
                    brake.value(rel)
                    pwm.duty_u16(65535)
                elif t == 9000:
                    pwm.duty_u16(0)
                elif t == 10000:
                    dirp.value(0)
                    pwm.duty_u16(26214)
                elif t == 16000:
                    dirp.value(1)
                    pwm.duty_u16(52428)
                    plant.inject_fault("pinch", torque_nm=200)
                elif t == 20000:
                    plant.clear_fault("pinch")
                    pwm.duty_u16(0)
                    plant.inject_fault("actuator_runaway", duty=0.5)
                elif t == 24000:
                    en.value(0)
                    brake.value(1 - rel)
            else:
                if t == 500:
                    plant.set_arms(True)
                    brake.value(rel)
                elif t == 6000:
                    brake.value(1 - rel)
                elif t == 8000:
                    plant.inject_fault("brake_slip")
                elif t == 14000:
                    plant.clear_fault("brake_slip")
                    plant.set_arms(False)
                    brake.value(rel)
                elif t == 25000:
                    brake.value(1 - rel)
            if t == 3000:
                plant.press("start")
            elif t == 3200:
                plant.release("start")
            elif t == 12000:
                plant.inject_fault("imu_spike", rate=0.2)
            elif t == 13000:
                plant.clear_fault("imu_spike")
            plant.step()
            emul.advance(tick_ms)
            i2c.readfrom_mem_into(addr, 0x3B, buf)
            words = []
            for i in range(0, 14, 2):
                w = (buf[i] << 8) | buf[i + 1]
                words.append(w - 65536 if w & 0x8000 else w)
            counts = [a.read_u16() >> 4 for a in adcs]
            out("%d %.9f %.9f %.9f %.6f %d %s %s" % (
                k, plant.theta_deg, plant.rate_deg_s, plant.stroke_mm, plant.current_ma,
                1 if plant.brake_engaged else 0,
                " ".join([str(w) for w in words]), " ".join([str(c) for c in counts])))
    finally:
        sim_machine.uninstall()


def main(argv):
    name = argv[1] if len(argv) > 1 else "esp32-devkitc-actuator"
    seed = int(argv[2]) if len(argv) > 2 else 7
    seconds = float(argv[3]) if len(argv) > 3 else 30.0
    with open("boards/%s.json" % name) as f:
        board = json.load(f)
    run(board, seed, seconds, print)


if __name__ == "__main__":
    main(sys.argv)
