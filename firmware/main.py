"""Boot and run the table controller on the ESP32.

Order matters, and each step is fail-safe before the next:

1. (in hardware) pull-downs hold the brake engaged and the actuator
   unpowered until the firmware drives those pins;
2. board file loaded and validated (a bad one stops here, with the reason on
   the console: no pin is driven, and the brake and enable pull-downs keep
   the table braked);
3. the profile (beginner defaults if none is stored);
4. App: IMU check, configuration and self-test, the drive lease timer;
5. the hardware watchdog;
6. the 100 Hz loop. The supervisor's boot phase does the rest of SPEC R10:
   if the table is inverted it sounds 3 s of warning, then returns slowly;
   if the self-check failed it stays braked and alarms.
"""
import gc
import sys
import time

from drivers.board_setup import setup_board
from scheduler import Scheduler
from app import App
from session.storage import Storage, BoardFs
from session import profiles

BOARD_FILE = "board.json"
DATA_DIR = "/data"


def _load_board():
    # The validator is big and only needed once: dropped after use, its
    # heap goes to the running controller.
    import boardcfg
    try:
        return boardcfg.load_board(BOARD_FILE)
    finally:
        del sys.modules["boardcfg"]
        gc.collect()


def main():
    board = _load_board()
    devices = setup_board(board, time.ticks_ms())
    # Profile, progression and logs: atomic checksummed records (SPEC R12).
    # Missing, corrupt or invalid profile: the beginner one, and why.
    storage = Storage(BoardFs(DATA_DIR))
    profile, note = profiles.load(storage)
    if note:
        print(note)
    app = App(board, devices, profile, storage)
    watchdog = devices.start_watchdog()
    sched = Scheduler(time, board["tick_ms"])

    def tick(dt_ms):
        app.tick(dt_ms)
        # Fed only after a whole tick that kept its deadline: a hung, crashed
        # or starved loop resets the board into the braked boot path.
        watchdog.feed_if(dt_ms == sched.period_ms)

    sched.run(tick)


try:
    main()
except ValueError as exc:
    # A refused board file (boardcfg.BoardError): nothing was driven. The
    # brake and H-bridge inputs' pull-downs keep the table braked (README).
    print("board.json refused:", exc)
