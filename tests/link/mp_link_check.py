# The firmware's host link on the MicroPython VM (unix port):
#
#     .venv/bin/micropython -X heapsize=2M tests/link/mp_link_check.py VECTORS.json
#
# VECTORS.json (written by test_on_micropython.py with CPython's hmac):
# [[key_hex, msg_hex, mac_hex], ...]. Checks, on the real VM:
#   - CRC-16 known vector, framing and parse_frame refusals;
#   - HMAC-SHA256 against CPython's results, the Authenticator;
#   - profile checks (the schema is dropped after each);
#   - Telemetry.encode under micropython.heap_lock() (allocates nothing);
#   - a closed loop (simulator plant + emulated machine + the real App):
#     commands through App.host_line, 3000 noise lines changing nothing,
#     and the link's per-tick work (before_core/after_core, telemetry
#     included) under heap_lock in steady states.
# Prints "OK" or "FAIL <what>" (exit 1).
import json
import sys

import micropython


def _dirname(path):
    return path.rsplit("/", 1)[0] if "/" in path else "."


HERE = _dirname(sys.argv[0])
REPO = HERE + "/../.."
sys.path.insert(0, REPO + "/firmware")
sys.path.insert(0, REPO)

from link import frame, auth, telemetry  # noqa: E402
from session import profiles  # noqa: E402


def fail(what):
    print("FAIL", what)
    sys.exit(1)


def check(cond, what):
    if not cond:
        fail(what)


def unhex(text):
    import binascii
    return binascii.unhexlify(text)


# -- CRC and framing ---------------------------------------------------------------------
check(frame.crc16(b"123456789") == 0x29B1, "crc vector")
line = frame.encode(b"42", "STATUS")
check(line[-1] == 10, "encode newline")
seq, body, code, _ = frame.parse_frame(line[:-1])
check(seq == b"42" and body == "STATUS" and code is None, "parse good frame")
check(frame.parse_frame(b"42 STATUS")[2] == "frame", "parse no crc")
check(frame.parse_frame(line[:-2] + b"0")[2] in ("crc", "frame") or line[-2] == 48, "parse bad crc")
check(frame.parse_frame(b"x STATUS *0000")[0] is None, "parse bad seq")

# -- HMAC ----------------------------------------------------------------------------------
with open(sys.argv[1]) as f:
    vectors = json.load(f)
for key_hex, msg_hex, mac_hex in vectors:
    check(auth.hmac_sha256(unhex(key_hex), unhex(msg_hex)) == unhex(mac_hex),
          "hmac vector " + mac_hex[:8])
key = bytes(range(32))
a = auth.Authenticator(key)
msg = b"5 PROFILE SET {}"
mac = auth.hmac_sha256(key, msg)
check(a.verify(msg, mac, 5, 4)[0], "verify good")
check(not a.verify(msg, mac, 4, 4)[0], "verify stale")
check(not a.verify(msg, bytes(32), 6, 4)[0], "verify forged")
check(auth.parse_mac("ab" * 32) == b"\xab" * 32 and auth.parse_mac("xy" * 32) is None, "mac parse")

# -- profile checks -------------------------------------------------------------------------
def _profile_ok(p):
    try:
        profiles.validate(p)
        return True
    except profiles.ProfileError:
        return False


check(_profile_ok({"level": 3, "contraindications": ["vertigo"]}), "profile good")
check(not _profile_ok({"level": 9}), "profile level")
check(not _profile_ok({"full_inversion": 1}), "profile bool")
check(_profile_ok(json.loads('{"rate_deg_s": 2.5}')), "profile float")
check(_profile_ok({"level": 4}), "profile level 4 without full_inversion")
check(not _profile_ok({"contraindications": ["vertigo", "vertigo"]}), "profile repeat")
check("profile_schema" not in sys.modules, "profile schema dropped after the check")


# -- telemetry allocates nothing -------------------------------------------------------------
class _Sup:
    alarm = False


class _Core:
    theta_mdeg = 45123
    setpoint_mdeg = 45000
    cap_mdeg = 60000
    hold_left_ms = 94001
    heartbeat_ok = True
    brake_engaged = False
    state = "holding"
    fault = ""
    supervisor = _Sup()


def encode_locked(tele, fake):
    micropython.heap_lock()
    try:
        for i in range(50):
            fake.theta_mdeg = -70000 + i * 3000
            fake.fault = "" if i % 2 else "imu_frozen"
            tele.encode(fake)
        done = True
    except MemoryError:
        done = False
    micropython.heap_unlock()
    return done


tele = telemetry.Telemetry()
fake = _Core()
fake.theta_mdeg = 0                  # instance attributes exist before the lock
fake.fault = "imu_frozen"
tele.encode(fake)                    # first sight of the names fills the cache
fake.fault = ""
tele.encode(fake)
check(encode_locked(tele, fake), "Telemetry.encode allocated under heap_lock")
out = bytes(tele.buf)
check(out.startswith(b"! T n=") and b" st=holding " in out and out.endswith(b"\n"), "tele text")
star = out.rfind(b" *")
check(int(out[star + 2:star + 6], 16) == frame.crc16(out, 0, star), "tele crc")
check(telemetry.traction_pct(60000) == 87 and telemetry.traction_pct(30000) == 50
      and telemetry.traction_pct(-5000) == 0, "traction")

# -- closed loop with the real App ----------------------------------------------------------
from simulator.plant import Plant  # noqa: E402
from simulator import machine as sim_machine  # noqa: E402

with open(REPO + "/boards/esp32-devkitc-actuator.json") as f:
    BOARD = json.load(f)
plant = Plant(BOARD, None, 3)
sim_machine.install(plant.emul)

from drivers.board_setup import setup_board  # noqa: E402
from app import App  # noqa: E402

dev = setup_board(BOARD)
app = App(BOARD, dev, {"level": 3, "preferred_angle": 20, "rate_deg_s": 6})
app.link.auth = auth.Authenticator(key)
core = app.core
n_tick = [0]


def step():
    plant.step(10)
    plant.emul.advance(10)
    if n_tick[0] % 25 == 0:
        app.heartbeat("host")
    app.tick(10)
    n_tick[0] += 1


def run_until(cond, max_ticks, what):
    for _ in range(max_ticks):
        step()
        if cond():
            return
    fail("never reached " + what + " state " + core.state)


seq_no = [0]


def call(text):
    seq_no[0] += 1
    raw = frame.encode(str(seq_no[0]).encode(), text)[:-1]
    reply = app.host_line(raw)
    check(reply is not None and reply.endswith(b"\n"), "reply to " + text)
    s, body, code, _ = frame.parse_frame(reply[:-1])
    check(code is None and s == str(seq_no[0]).encode(), "reply frame to " + text)
    return body


run_until(lambda: core.state == "idle", 300, "idle")
check(call("HELLO").startswith("OK proto=1"), "HELLO")
check(call("STATUS").startswith("OK st=idle"), "STATUS")
check(call("JOG SIDEWAYS").startswith("ERR args"), "JOG args")
check(call("FLY").startswith("ERR verb"), "unknown verb")
signed_text = 'PROFILE SET {"level":3,"preferred_angle":20,"rate_deg_s":6}'
mac_hex = "".join("%02x" % b for b in auth.hmac_sha256(key, ("7 " + signed_text).encode()))
check(call(signed_text + " CTR=7 MAC=" + mac_hex).startswith("OK ctr=7"), "PROFILE SET")
check(call(signed_text + " CTR=7 MAC=" + mac_hex).startswith("ERR auth"), "replay")
check(app.auth_counter == 7, "counter")

# Noise changes nothing (random bytes and printable junk).
seed = [12345]


def rnd(n):
    seed[0] = (seed[0] * 1103515245 + 12345) & 0x7FFFFFFF
    return seed[0] % n


state_before = (core.state, app.auth_counter, core.sequencer.state, core.supervisor.action)
for i in range(3000):
    junk = bytes(rnd(256) if i % 2 else 32 + rnd(95) for _ in range(rnd(120)))
    app.host_line(junk)
    if i % 30 == 0:
        step()
check((core.state, app.auth_counter, core.sequencer.state, core.supervisor.action)
      == state_before, "noise changed the state")
check(app.link.errors == 0, "link errors after noise")


# The link's per-tick work, telemetry included, under heap_lock.
class NullPort:
    oversize_count = 0

    def __init__(self):
        self.writes = 0

    def poll(self, on_line):
        return 0

    def write(self, data):
        self.writes += 1
        return len(data)


port = NullPort()
app.link.port = port
real_before = app.link.before_core
real_after = app.link.after_core
locked = [0]


def locked_before(dt_ms):
    micropython.heap_lock()
    try:
        real_before(dt_ms)
    finally:
        micropython.heap_unlock()
    locked[0] += 1


def locked_after(dt_ms):
    micropython.heap_lock()
    try:
        real_after(dt_ms)
    finally:
        micropython.heap_unlock()


app.link.before_core = locked_before
app.link.after_core = locked_after
for _ in range(20):
    step()                               # queued replies and events drain first
errors = app.link.errors
writes = port.writes
for _ in range(300):                     # idle at home: 30 telemetry lines
    step()
check(app.link.errors == errors, "link allocated while idle (errors %d)" % app.link.errors)
check(port.writes - writes == 30, "telemetry lines while idle: %d" % (port.writes - writes))
app.link.before_core = real_before
app.link.after_core = real_after
ok, why = app.start_program("beginner")
check(ok, "start beginner: " + str(why))
plant.press("start")                     # RUN arms it; START on the table begins it
for _ in range(10):
    step()
plant.release("start")
run_until(lambda: core.state == "holding", 6000, "holding")
for _ in range(20):
    step()
app.link.before_core = locked_before
app.link.after_core = locked_after
errors = app.link.errors
writes = port.writes
for _ in range(300):                     # holding at 20 degrees
    step()
check(core.state == "holding", "still holding")
check(app.link.errors == errors, "link allocated while holding")
check(port.writes - writes == 30, "telemetry lines while holding")
print("OK")
