# Run under the MicroPython unix port (test_drv_micropython.py does):
#     micropython mp_heap_check.py FIRMWARE_DIR BOARDS_DIR
# Builds the actuator board on fake_machine, then runs the per-tick driver
# calls under micropython.heap_lock(): any allocation raises MemoryError.
# Prints "OK" on success, "FAIL <step>" otherwise.
import sys

HERE = sys.argv[0].rsplit("/", 1)[0] if "/" in sys.argv[0] else "."
sys.path.insert(0, HERE)
sys.path.insert(0, sys.argv[1])
BOARDS = sys.argv[2]

import fake_machine  # noqa: E402

sys.modules["machine"] = fake_machine

import micropython  # noqa: E402

import boardcfg  # noqa: E402
from drivers.board_setup import setup_board  # noqa: E402
from drivers.indicators import ALARM, BLINK_FAST  # noqa: E402

STEPS = ("imu.read", "bedframe.update", "buttons.update", "estop.update", "hbridge.set_duty",
         "position.read", "current.read", "buzzer.update", "led.update", "hostlink.poll",
         "watchdog.feed_if", "world")

lines_seen = [0]


def on_line(buf, n):
    lines_seen[0] += 1


def tick(devices, dog, now_ms, duty, step):
    step[0] = 0
    devices.imu.read()
    step[0] = 1
    devices.bedframe.update()
    step[0] = 2
    devices.buttons.update(now_ms)
    step[0] = 3
    devices.estop.update(now_ms)
    step[0] = 4
    devices.hbridge.set_duty(duty)
    step[0] = 5
    devices.position.read()
    step[0] = 6
    devices.current.read()
    step[0] = 7
    devices.buzzer.update(now_ms)
    step[0] = 8
    devices.led.update(now_ms)
    step[0] = 9
    devices.hostlink.poll(on_line)
    step[0] = 10
    dog.feed_if(devices.estop.active is False)


def run(devices, dog, ticks, step):
    external = fake_machine.external
    analog = fake_machine.analog
    for i in range(ticks):
        now_ms = i * 10
        step[0] = 11
        # The world changes while locked: STOP opens and closes, START
        # bounces, the pot sweeps and once reads open-circuit.
        external[4] = 1 if (i // 7) % 2 else 0
        external[16] = 0 if (i // 3) % 2 else 1
        analog[34] = 0 if i == 50 else 400 + (i * 37) % 3300
        analog[35] = (i * 13) % 4096
        duty = ((i * 173) % 2001) - 1000
        tick(devices, dog, now_ms, duty, step)


def main():
    for name in ("esp32-devkitc-actuator", "esp32s3-brake"):
        boardcfg.load_board(BOARDS + "/" + name + ".json")
    board = boardcfg.load_board(BOARDS + "/esp32-devkitc-actuator.json")
    fake_machine.external[4] = 0
    fake_machine.external[19] = 1
    fake_machine.analog[34] = 2000
    part = fake_machine.FakeMPU6050()
    part.set_accel(-8192, 100, -14189)
    part.set_gyro(-300, 1310, 7)
    fake_machine.i2c_devices[104] = part
    devices = setup_board(board, 0)
    devices.imu.check()
    dog = devices.start_watchdog()
    devices.buzzer.play(ALARM, True)
    devices.led.play(BLINK_FAST, True)
    step = [0]
    run(devices, dog, 5, step)           # warm up outside the lock
    fake_machine.uarts[0].feed(b"hb\n" + b"x" * 400 + b"\nstatus\n")
    micropython.heap_lock()
    try:
        run(devices, dog, 300, step)
    except MemoryError:
        micropython.heap_unlock()
        print("FAIL", STEPS[step[0]])
        return
    micropython.heap_unlock()
    if devices.imu.accel_x != -8192 or devices.bedframe.pitch_rate_mdeg_s != 10000:
        print("FAIL decode", devices.imu.accel_x, devices.bedframe.pitch_rate_mdeg_s)
    elif lines_seen[0] != 2 or devices.hostlink.oversize_count != 1:
        print("FAIL hostlink", lines_seen[0], devices.hostlink.oversize_count)
    else:
        print("OK")


main()
