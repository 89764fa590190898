# Run under the MicroPython unix port (test_drv_micropython.py does):
#     micropython mp_boardcfg_check.py FIRMWARE_DIR BOARDS_DIR
# boardcfg must behave on the board as it does on CPython: the shipped boards
# load, and a broken field is refused with a message naming it.
# Prints "OK" or "FAIL <what>".
import json
import sys

sys.path.insert(0, sys.argv[1])
BOARDS = sys.argv[2]

import boardcfg  # noqa: E402

CASES = (
    # (section or None, key, value, expected text in the message)
    ("hbridge", "pwm", 34, "hbridge.pwm: pin 34 is input-only on esp32"),
    ("buttons", "stop_normally_closed", False, "buttons.stop_normally_closed: must be true"),
    ("imu", "pitch", "-y", "imu.pitch: -y, but normal x along is +y"),
    (None, "tick_ms", 20, "tick_ms: 20 is outside 10..10"),
    ("brake", "pin", 25, "hbridge.pwm: pin 25 already used by brake.pin"),
    (None, "surprise", 1, "surprise: unknown key"),
)


def main():
    with open(BOARDS + "/esp32-devkitc-actuator.json") as f:
        text = f.read()
    for name in ("esp32-devkitc-actuator", "esp32s3-brake"):
        boardcfg.load_board(BOARDS + "/" + name + ".json")
    for section, key, value, expected in CASES:
        board = json.loads(text)
        (board if section is None else board[section])[key] = value
        try:
            boardcfg.validate_board(board)
        except boardcfg.BoardError as exc:
            message = str(exc)
            if expected not in message or not message.startswith("board esp32-devkitc-actuator: "):
                print("FAIL", message)
                return
            continue
        print("FAIL accepted", key)
        return
    print("OK")


main()
