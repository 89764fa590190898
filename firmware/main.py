"""Boot and run the table controller on the ESP32.

Order matters, and each step is fail-safe before the next:

1. brake on and actuator drive off: setup_board does this before it touches
   any other pin, so a reset mid-motion leaves the table braked;
2. board file loaded and validated (a bad one stops here, braked, with the
   reason on the console);
3. the profile (beginner defaults if none is stored);
4. App: IMU check, configuration and self-test, the drive lease timer;
5. the hardware watchdog;
6. the 100 Hz loop. The supervisor's boot phase does the rest of SPEC R10:
   if the table is inverted it sounds 3 s of warning, then returns slowly;
   if the self-check failed it stays braked and alarms.
"""
import time

from drivers.board_setup import setup_board
from boardcfg import load_board, BoardError
from scheduler import Scheduler
from app import App
from session.storage import Storage, BoardFs
from session import profiles

BOARD_FILE = "board.json"
DATA_DIR = "/data"


def main():
    board = load_board(BOARD_FILE)
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
except BoardError as exc:
    print("board.json refused:", exc)
