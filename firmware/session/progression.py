"""Progression levels (SPEC R3): earned slowly, lost on symptoms, kept on flash.

`decide` is a pure function of the session history, the current level, the
full_inversion flag and today's date. A history record is
(day, level, completed, symptoms): day in unix days or None when the board
clock was unset, the level in force during that session, whether the
program ran to its end, whether it was stopped for symptoms.

Rules, over the records at the current level only (the trailing run of
records whose level equals it; a level change starts a new run):
- symptoms: a STOP for symptoms holds the level and restarts the count;
  two in a row (sessions that neither completed nor stopped for symptoms,
  such as a lost heartbeat or a fault, are skipped) drop it by one;
- earned: 3 completed sessions since the last STOP for symptoms;
- at most one level per 2 days: today must be at least 2 days after the
  first known date of the run (a level change happens after the last
  session at the old level, so the first session at the new one is no
  earlier than it), and no earlier than any date in the run (a clock set
  backwards never earns a level);
- no date, no level-up: with the clock unset (today None) the level holds;
- never above level 3 (60 degrees) unless full_inversion is set, then 4.

The stored state is {"level", "base", "history"}: `base` is the profile's
level when the run began. A clinician who stores a different level in the
profile restarts progression from it. A corrupt record restarts from
level 0, never from anything higher.
"""
try:
    from micropython import const
except ImportError:
    def const(x):  # type: ignore[misc]
        return x

import json

from safety import spec

RECORD = "progress"
HISTORY_MAX = 16
_SESSIONS_TO_EARN = const(3)
_SYMPTOM_STOPS_TO_DROP = const(2)
DAYS_PER_LEVEL = 2
# A board clock reading a year before this was never set (the ESP32 RTC
# starts at 2000-01-01 after power-up).
_CLOCK_VALID_YEAR = const(2024)

_DAY = 0
_LEVEL = 1
_COMPLETED = 2
_SYMPTOMS = 3


def top_level(full_inversion):
    """The highest level a profile may reach."""
    return spec.FULL_INVERSION_LEVEL if full_inversion else spec.FULL_INVERSION_LEVEL - 1


def unix_day(year, month, mday):
    """Days since 1970-01-01 of a civil date (proleptic Gregorian)."""
    y = year - 1 if month <= 2 else year
    era = y // 400
    yoe = y - era * 400
    mp = month - 3 if month > 2 else month + 9
    doy = (153 * mp + 2) // 5 + mday - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def today_of(tm):
    """Unix day of a time.gmtime() tuple, or None if the clock was never set."""
    if tm[0] < _CLOCK_VALID_YEAR:
        return None
    return unix_day(tm[0], tm[1], tm[2])


def today_from_unix(seconds):
    """Unix day of wall-clock seconds, or None while the clock is unset
    (0, None, or before _CLOCK_VALID_YEAR: the host has not set the time)."""
    if not seconds or seconds < unix_day(_CLOCK_VALID_YEAR, 1, 1) * 86400:
        return None
    return seconds // 86400


def _run_start(history, level):
    i = len(history)
    while i > 0 and history[i - 1][_LEVEL] == level:
        i -= 1
    return i


def decide(history, level, full_inversion, today):
    """(new level, reason) after the last session in `history`."""
    top = top_level(full_inversion)
    if level > top:
        return top, "capped: level %d needs full_inversion" % level
    if level < 0:
        return 0, "invalid level"
    start = _run_start(history, level)
    row = 0
    for i in range(len(history) - 1, start - 1, -1):
        rec = history[i]
        if rec[_SYMPTOMS]:
            row += 1
            if row >= _SYMPTOM_STOPS_TO_DROP:
                if level == 0:
                    return 0, "two stops for symptoms in a row (already level 0)"
                return level - 1, "two stops for symptoms in a row: level down"
        elif rec[_COMPLETED]:
            break
    streak = 0
    for i in range(len(history) - 1, start - 1, -1):
        rec = history[i]
        if rec[_SYMPTOMS]:
            break
        if rec[_COMPLETED]:
            streak += 1
    if streak < _SESSIONS_TO_EARN:
        return level, "%d of %d completed sessions at this level" % (streak, _SESSIONS_TO_EARN)
    if level >= top:
        return level, "at the highest level allowed"
    if today is None:
        return level, "clock not set: no level-up without a date"
    first = None
    for i in range(start, len(history)):
        day = history[i][_DAY]
        if day is None:
            continue
        if first is None:
            first = day
        if day > today:
            return level, "a session is dated after today: clock suspect"
    if first is None or today - first < DAYS_PER_LEVEL:
        return level, "at most one level per %d days" % DAYS_PER_LEVEL
    return level + 1, "level earned"


# -- stored state ----------------------------------------------------------------

def new_state(level, base):
    return {"level": level, "base": base, "history": []}


def _valid_level(v):
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= spec.FULL_INVERSION_LEVEL


def _valid_state(st):
    if not isinstance(st, dict) or not _valid_level(st.get("level")) or not _valid_level(st.get("base")):
        return False
    hist = st.get("history")
    if not isinstance(hist, list) or len(hist) > HISTORY_MAX:
        return False
    for rec in hist:
        if not isinstance(rec, list) or len(rec) != 4:
            return False
        day = rec[_DAY]
        if day is not None and (not isinstance(day, int) or isinstance(day, bool)):
            return False
        if not _valid_level(rec[_LEVEL]) or not isinstance(rec[_COMPLETED], bool) \
                or not isinstance(rec[_SYMPTOMS], bool):
            return False
    return True


def encode(state):
    return json.dumps(state).encode()


def load(storage, profile):
    """(state, note) for this profile. Missing: start at the profile's level.
    Corrupt: level 0. Profile level changed by the clinician: restart there."""
    base = profile.get("level", 0)
    top = top_level(profile.get("full_inversion", False))
    payload, reason = storage.read(RECORD)
    if payload is None:
        if reason == "missing":
            return new_state(min(base, top), base), ""
        return new_state(0, base), "progression record corrupt: level 0 until earned again"
    try:
        st = json.loads(payload.decode())
    except (ValueError, UnicodeError):
        st = None
    if not _valid_state(st):
        return new_state(0, base), "progression record invalid: level 0 until earned again"
    if st["base"] != base:
        return new_state(min(base, top), base), "profile level set to %d: progression restarts" % base
    if st["level"] > top:
        st["level"] = top
    return st, ""


def record(storage, state, profile, completed, symptoms, today):
    """Add one finished session, decide the level, store it atomically.
    Returns (new state, reason); `state` itself is left unchanged, so a
    failed write leaves the caller with the old, still stored, state."""
    level = state["level"]
    hist = list(state["history"])
    hist.append([today, level, bool(completed), bool(symptoms)])
    if len(hist) > HISTORY_MAX:
        hist = hist[len(hist) - HISTORY_MAX:]
    new_level, reason = decide(hist, level, profile.get("full_inversion", False), today)
    new = {"level": new_level, "base": state["base"], "history": hist}
    storage.write(RECORD, encode(new))
    return new, reason


def effective_profile(profile, state):
    """The profile with the progression's level: what compute_limits gets."""
    out = dict(profile)
    out["level"] = min(state["level"], top_level(profile.get("full_inversion", False)))
    return out
