# The session layer on the real MicroPython VM (unix port). Run by
# test_sess_micropython.py:
#
#     .venv/bin/micropython -X heapsize=4M tests/session/mp_session_check.py
#
# Prints one "OK <what> <detail>" line per check, "DIGEST <name> <hex>" lines
# that the CPython side recomputes and compares, and "FAIL <what>: <why>" on
# a failure (exit 1).
import sys

import micropython


def _dirname(path):
    return path.rsplit("/", 1)[0] if "/" in path else "."


HERE = _dirname(sys.argv[0])
REPO = HERE + "/../.."
for _p in (HERE, REPO, REPO + "/firmware"):
    sys.path.insert(0, _p)

import os  # noqa: E402

from simulator.flash import FlashFs, PowerLost  # noqa: E402
from session.storage import Storage, BoardFs  # noqa: E402
from session import profiles, progression, programs  # noqa: E402
from session import log as slog  # noqa: E402
from session.log import Log, SessionRecorder  # noqa: E402
from safety.limits import compute_limits  # noqa: E402
import cutrig  # noqa: E402
import mpshared  # noqa: E402

failures = []


def check(what, cond, why=""):
    if not cond:
        failures.append(what)
        print("FAIL %s: %s" % (what, why))
    return cond


# -- 1. power cut at every write point of a whole session ------------------------------

def powercut():
    image = cutrig.initial_image()
    for replaces in (True, False):
        committed = cutrig.committed_states(image, replaces)
        points = committed[-1][1]
        runs = 0
        for n in range(1, points + 1):
            for seed in range(3):
                cut_in, loaded, notes, _ = cutrig.run_cut(image, n, seed, replaces)
                problem = cutrig.check_cut(committed, cut_in, loaded, notes)
                if not check("powercut n=%d seed=%d" % (n, seed), problem == "", problem):
                    return
                runs += 1
        print("OK powercut %s points=%d runs=%d" % ("littlefs" if replaces else "fat", points, runs))


# -- 2. profiles ------------------------------------------------------------------------

def profile_checks():
    bad = (({"level": 5}, "level"), ({"hold_s": 0}, "hold_s"), ({"x": 1}, "x"),
           ({"age": True}, "age"), ({"contraindications": ["flu"]}, "contraindications"),
           ({"rate_deg_s": 9}, "rate_deg_s"),
           ({"contraindications": ["vertigo", "vertigo"]}, "contraindications"))
    for p, field in bad:
        try:
            profiles.validate(p)
            check("profile refused " + field, False, "accepted")
        except profiles.ProfileError as exc:
            check("profile field " + field, str(exc).startswith(field + ":"), str(exc))
    check("profile schema dropped", "profile_schema" not in sys.modules)
    # Level 4 without full_inversion is a profile (SPEC R1: its cap stays 60).
    fs = FlashFs(0)
    s = Storage(fs)
    check("profile level 4", profiles.save(s, {"level": 4}) == {"level": 4})
    check("profile level 4 loaded", profiles.load(s) == ({"level": 4}, ""))
    check("profile level 4 cap", compute_limits({"level": 4}, {"mech_max_deg": 92}).cap_mdeg
          == 60000)
    profiles.save(s, {"level": 3, "cap_deg": 60, "name": "ann"})
    fs.corrupt(profiles.RECORD)
    prof, note = profiles.load(s)
    check("corrupt profile", prof == profiles.beginner() and "corrupt" in note, note)
    prof, note = profiles.load(Storage(FlashFs(0)))
    check("missing profile", prof == profiles.beginner() and "no stored" in note, note)
    print("OK profiles")


# -- 3. progression: the same random histories as on CPython -------------------------------

def progression_checks():
    decisions = mpshared.progression_run(progression)
    check("progression properties", decisions[0] == "", decisions[0])
    print("DIGEST progression %08x" % decisions[1])
    print("OK progression")


# -- 4. log rotation bound ------------------------------------------------------------------

def log_checks():
    fs = FlashFs(0)
    log = Log(Storage(fs))
    bound = slog.FILES * (slog.FILE_BYTES + 12)
    worst = 0
    for sid in range(1, 401):
        log.append([slog.csv_line(sid, sid, "start", "decompression", 60000, "x" * 150)])
        log.append([slog.csv_line(sid, sid + 9, "end", "completed", 60000, "y" * 150)])
        worst = max(worst, fs.used_bytes())
    check("log bound", worst <= bound, "%d > %d" % (worst, bound))
    check("log files", len(fs.listdir()) <= slog.FILES, repr(fs.listdir()))
    check("log list", log.list()[-1].startswith("400,"), log.list()[-1])
    print("OK log worst=%d bound=%d" % (worst, bound))


# -- 5. the recorder allocates nothing in quiet ticks ----------------------------------------

class Sup:
    def __init__(self):
        self.reason = ""


class Core:
    def __init__(self):
        self.state = "idle"
        self.theta_mdeg = -70000
        self.setpoint_mdeg = -70000
        self.cap_mdeg = 60000
        self.event = ""
        self.trigger_tick = False
        self.fault = ""
        self.brake_engaged = True
        self.duty_permille = 0
        self.supervisor = Sup()


def _locked(rec, core, ticks):
    micropython.heap_lock()
    try:
        for _ in range(ticks):
            rec.tick(core, 10, 1700000000)
    finally:
        micropython.heap_unlock()


def recorder_heap():
    fs = FlashFs(0)
    rec = SessionRecorder(Log(Storage(fs)))
    core = Core()
    steps = programs.builtin("decompression", compute_limits({"level": 3}, {}))
    done = 0
    try:
        core.event = "program_ready"
        _locked(rec, core, 200)                        # idle at home, a program armed
        done += 200
        core.event = ""
        rec.note_program("decompression", steps)
        core.state = "moving"
        core.brake_engaged = False
        core.duty_permille = 500
        core.theta_mdeg = -69900
        rec.tick(core, 10, 1700000000)                 # the session opens: not locked
        core.theta_mdeg = 30000
        _locked(rec, core, 300)                        # moving, inverted
        done += 300
        core.state = "holding"
        core.theta_mdeg = 60000
        core.setpoint_mdeg = 60000
        core.brake_engaged = True
        core.duty_permille = 0
        _locked(rec, core, 500)                        # holding, brake on, inverted
        done += 500
        core.state = "paused"
        _locked(rec, core, 100)
        done += 100
        core.supervisor.reason = "stop"
        core.state = "emergency_return"
        core.trigger_tick = True
        rec.tick(core, 10, 1700000000)                 # the event tick: may allocate
        core.trigger_tick = False
        core.brake_engaged = False
        core.duty_permille = -900
        core.event = "dwell"
        _locked(rec, core, 400)                        # returning, a record pending, an event
        done += 400
        core.event = ""
    except MemoryError as exc:
        check("recorder heap", False, "allocation after %d locked ticks: %r" % (done, exc))
        return
    check("recorder pending", len(rec.pending) == 1 and fs.points > 0, repr(rec.pending))
    core.state = "idle"
    core.theta_mdeg = -70000
    core.brake_engaged = True
    core.duty_permille = 0
    rec.tick(core, 10, 1700000000)
    check("recorder flushed", rec.pending == [] and rec.log.list()[1].endswith("symptom_stop,60000"),
          repr(rec.log.list()))
    print("OK recorder heap_locked_ticks=%d" % done)


# -- 6. BoardFs over the real littlefs and FAT drivers, with power cuts --------------------

class Cut(Exception):
    pass


class RamFlash:
    """A RAM block device that can lose power after a number of block writes."""

    def __init__(self, block_size, blocks, data=None):
        self.block_size = block_size
        self.data = bytearray(data) if data is not None else bytearray(block_size * blocks)
        self.writes = 0
        self.cut_after = 0
        self.dead = False

    def readblocks(self, n, buf, offset=0):
        # Byte by byte: littlefs also reads from file finalizers, which run
        # with the heap locked, so this must not allocate.
        a = n * self.block_size + offset
        data = self.data
        for i in range(len(buf)):
            buf[i] = data[a + i]

    def writeblocks(self, n, buf, offset=None):
        if self.dead:
            raise Cut()
        if offset is None:
            offset = 0
        a = n * self.block_size + offset
        self.writes += 1
        if self.cut_after and self.writes >= self.cut_after:
            self.dead = True
            keep = len(buf) // 2
            self.data[a:a + keep] = buf[:keep]
            raise Cut()
        self.data[a:a + len(buf)] = buf

    def ioctl(self, op, arg):
        if op == 4:
            return len(self.data) // self.block_size
        if op == 5:
            return self.block_size
        if op == 6:
            if self.dead:
                raise Cut()
            a = arg * self.block_size
            self.data[a:a + self.block_size] = b"\xff" * self.block_size
            return 0
        return 0


def _mount(kind, dev, fresh):
    vfs_class = os.VfsLfs2 if kind == "littlefs" else os.VfsFat
    if fresh:
        vfs_class.mkfs(dev)
    vfs = vfs_class(dev)
    os.mount(vfs, "/flash")
    return vfs


def board_fs(kind):
    block = 4096 if kind == "littlefs" else 512
    blocks = 64 if kind == "littlefs" else 256
    dev = RamFlash(block, blocks)
    _mount(kind, dev, True)
    old = b"old" * 300
    new = b"new" * 400
    try:
        s = Storage(BoardFs("/flash/data"))
        s.write("profile", old)
        check(kind + " round trip", s.read("profile") == (old, "ok"))
        image = bytes(dev.data)
        base_writes = dev.writes
        s.write("profile", new)
        check(kind + " overwrite", s.read("profile") == (new, "ok"))
        check(kind + " no pending copy", os.listdir("/flash/data") == ["profile"],
              repr(os.listdir("/flash/data")))
        total = dev.writes - base_writes
    finally:
        os.umount("/flash")
    outcomes = {}
    broken = 0
    # k = total + 1: the write completes (the last block write is the commit).
    for k in range(1, total + 2):
        dev = RamFlash(block, blocks, image)
        _mount(kind, dev, False)
        try:
            dev.cut_after = k
            try:
                Storage(BoardFs("/flash/data")).write("profile", new)
            except Cut:
                pass
            except OSError:
                pass
        finally:
            try:
                os.umount("/flash")
            except Exception:
                pass
        dev.dead = False
        dev.cut_after = 0
        _mount(kind, dev, False)
        try:
            got, reason = Storage(BoardFs("/flash/data")).read("profile")
        except OSError as exc:
            got, reason = None, "mount error %r" % exc
        finally:
            os.umount("/flash")
        if got == old:
            outcomes["old"] = outcomes.get("old", 0) + 1
        elif got == new:
            outcomes["new"] = outcomes.get("new", 0) + 1
        else:
            broken += 1
            print("NOTE %s cut after block write %d: %s" % (kind, k, reason))
    check(kind + " power cuts", broken == 0 and outcomes.get("old") and outcomes.get("new"),
          "%d broken of %d, %r" % (broken, total, outcomes))
    print("OK boardfs %s block_writes=%d old=%d new=%d" % (
        kind, total, outcomes.get("old", 0), outcomes.get("new", 0)))


# -- 7. the emulated flash is the same on both VMs --------------------------------------------

def flash_digest():
    print("DIGEST flash %08x" % mpshared.flash_digest(FlashFs, PowerLost, Storage))


powercut()
profile_checks()
progression_checks()
log_checks()
recorder_heap()
board_fs("littlefs")
board_fs("fat")
flash_digest()
if failures:
    print("%d failed" % len(failures))
    sys.exit(1)
print("ALL OK")
