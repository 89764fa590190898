# The power-cut rig for SPEC R12, shared by the CPython tests and the
# MicroPython VM check (mp_session_check.py): plain Python, no pytest.
#
# A whole session's writes, in the order the App makes them: the clinician's
# profile save, the session log (start, stop, end records; the slots are
# small so the ring rotates during the session), then the progression
# update that earns a level. `committed_states()` runs it uncut and returns
# the state after each operation; `run_cut(n)` runs it with the power cut at
# write point n, powers back on and returns (index of the operation that was
# cut, the state the board then loads).
from simulator.flash import FlashFs, PowerLost
from session.storage import Storage
from session import profiles, progression
from session.log import Log
from safety.limits import compute_limits

BOARD = {"home_deg": -70, "mech_max_deg": 90, "rated_mass_kg": 136}
LOG_FILES = 3
LOG_FILE_BYTES = 200

PROFILE_OLD = {"name": "ann", "level": 1, "age": 52, "mass_kg": 70, "hold_s": 60,
               "session_s": 240, "rate_deg_s": 2, "preferred_angle": 40}
# The clinician loosens some limits and tightens others.
PROFILE_NEW = {"name": "ann", "level": 1, "age": 52, "mass_kg": 70, "hold_s": 90,
               "session_s": 200, "rate_deg_s": 3, "cap_deg": 45, "preferred_angle": 40}
DAY = 20100


def _initial(fs):
    st = Storage(fs)
    profiles.save(st, PROFILE_OLD)
    state = progression.new_state(1, 1)
    # Two completed sessions at level 1 already: this session earns level 2.
    for day in (DAY - 3, DAY - 2):
        state, _ = progression.record(st, state, PROFILE_OLD, True, False, day)
    log = Log(st, LOG_FILES, LOG_FILE_BYTES)
    for sid in (1, 2):
        log.append(["%d,%d,start,beginner,30000,20000/90000" % (sid, sid * 1000)])
        log.append(["%d,%d,end,completed,20000,inverted_ms=90000" % (sid, sid * 1000 + 200)])
    return state


def initial_image():
    fs = FlashFs(0)
    _initial(fs)
    return fs.image()


def operations(st, state_box):
    """The session's writes, as a list of functions of no arguments."""
    log_box = []

    def save_profile():
        profiles.save(st, PROFILE_NEW)

    def log_line(text):
        def op():
            if not log_box:
                log_box.append(Log(st, LOG_FILES, LOG_FILE_BYTES))
            log_box[0].append([text])
        return op

    def progress():
        state_box[0], _ = progression.record(st, state_box[0], PROFILE_NEW, True, False, DAY)

    return [save_profile,
            log_line("3,%d,start,decompression,45000,0/0;20000/0;40000/90000" % (DAY * 86400)),
            log_line("3,%d,stop,program_done,40000,holding" % (DAY * 86400 + 130)),
            log_line("3,%d,end,completed,40100,inverted_ms=120000;holds=40000@90000" % (DAY * 86400 + 170)),
            progress]


def load_state(fs):
    """What the board loads at boot: (profile, progress, log lines, notes)."""
    st = Storage(fs)
    profile, note = profiles.load(st)
    state, pnote = progression.load(st, profile)
    log = Log(st, LOG_FILES, LOG_FILE_BYTES)
    return profile, state, log.lines(), [note, pnote] + log.notes


def limits_of(profile, state):
    lim = compute_limits(progression.effective_profile(profile, state), BOARD)
    return (lim.cap_mdeg, lim.hold_ms[0], lim.hold_ms[1], lim.hold_ms[2],
            lim.session_ms, lim.rate_mdeg_s)


LIMIT_NAMES = ("cap_mdeg", "hold_ms[0]", "hold_ms[1]", "hold_ms[2]", "session_ms", "rate_mdeg_s")


def _start_state(image, seed, rename_replaces):
    fs = FlashFs.from_image(image, seed, rename_replaces)
    st = Storage(fs)
    state, _ = progression.load(st, profiles.load(st)[0])
    return fs, st, [state]


def committed_states(image, rename_replaces=True):
    """[(state, write points so far)] before the first and after each operation."""
    fs, st, box = _start_state(image, 0, rename_replaces)
    out = [(load_state(fs)[:3], 0)]
    for op in operations(st, box):
        op()
        out.append((load_state(fs)[:3], fs.points))
    return out


def run_cut(image, n, seed, rename_replaces=True):
    """Cut the power at write point n. Returns (index of the operation cut,
    1-based; 0 if the run finished first), the loaded state, the notes."""
    fs, st, box = _start_state(image, seed, rename_replaces)
    fs.cut_at(n)
    cut_in = 0
    for i, op in enumerate(operations(st, box)):
        try:
            op()
        except PowerLost:
            cut_in = i + 1
            break
    fs.power_on()
    loaded = load_state(fs)
    return cut_in, loaded[:3], loaded[3], fs


def check_cut(committed, cut_in, loaded, notes):
    """'' if the loaded state is the one before or after the cut operation
    and its limits are no wider than both; else what is wrong."""
    if cut_in == 0:
        return "the run finished before the cut"
    before = committed[cut_in - 1][0]
    after = committed[cut_in][0]
    if loaded != before and loaded != after:
        return "mixed or corrupt state: %r" % (loaded,)
    for note in notes:
        if "corrupt" in note or "invalid" in note or "unreadable" in note:
            return "note: " + note
    got = limits_of(loaded[0], loaded[1])
    old = limits_of(before[0], before[1])
    new = limits_of(after[0], after[1])
    for k in range(len(LIMIT_NAMES)):
        if got[k] > old[k] and got[k] > new[k]:
            return "%s widened: %r > old %r and new %r" % (LIMIT_NAMES[k], got[k], old[k], new[k])
    return ""
