"""Fuzz: 100,000+ random and mutated lines into a running closed loop.

The same session (the real App on the simulated plant, a program running,
host heartbeats) is run twice: once clean, once with the fuzz fed in every
tick, through App.host_line and through the host UART (HostLink). The fuzzed
run must be tick for tick identical to the clean one (state, angles, duty,
cap, alarm, profile, limits, counter), every tick must run, nothing may
raise, and the link must count no internal error.

Lines that the board would rightly act on (a frame with a good checksum and
a command that changes something, or the unframed HB/STOP) are kept out of
the fuzz by an oracle written from the protocol document; deliberately
well-checksummed but wrong commands (bad arguments, unknown verbs, forged
or replayed MACs) are in it.
"""
import json
import random
import time

from linkrig import KEY, OTHER_KEY, LinkRig
from host_tools import protocol

TICKS = 6000                 # 60 s of virtual time
FRAMES_PER_TICK_CALL = 16    # through App.host_line
UART_BYTES_PER_TICK = 400    # through the emulated UART and HostLink (< its 512 B/poll)
SEED = 20240611

VERBS = ("HELLO", "STATUS", "HB", "RUN", "PAUSE", "STOP", "ACK", "JOG", "PROFILE", "LOGS",
         "CAL", "TIME", "TELEM")
READ_ONLY = ("HELLO", "STATUS", "PROFILE GET", "LOGS LIST")
PROGRAMS = ("beginner", "warm-up", "decompression", "rotation", "overhead-stretch",
            "full-inversion")
PROFILE = {"level": 3, "preferred_angle": 20, "age": 45, "rate_deg_s": 6}


def valid_commands(counter):
    """Commands that would act (the seeds the mutations start from)."""
    prof = protocol.sign('PROFILE SET {"level":4,"full_inversion":true}', counter, KEY)
    return ["STOP", "RUN beginner", "RUN decompression", "PAUSE", "ACK", "JOG UP", "JOG DOWN",
            "HB", "HB pendant", prof, protocol.sign("CAL LEVEL", counter, KEY),
            "TIME SET 1780000000", "TELEM OFF", "LOGS PULL 0"] + list(READ_ONLY)


def would_act(line):
    """True if the board may rightly act on this line (the oracle)."""
    line = line.rstrip(b"\r")
    if any(b < 32 or b > 126 for b in line):
        return False
    text = line.decode().strip()
    if text == "HB" or text.upper() == "STOP":
        return True
    star = line.rfind(b" *")
    if star < 0:
        return False
    try:
        if int(line[star + 2:], 16) != protocol.crc16(line[:star]) or len(line) - star != 6:
            return False
    except ValueError:
        return False
    return True        # a good checksum: only the deliberate family may have one


class Fuzzer:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.seeds = [protocol.frame(self.rng.randrange(65536), c).rstrip(b"\n")
                      for c in valid_commands(1)]
        self.count = 0

    def _random_bytes(self):
        r = self.rng
        return bytes(r.randrange(256) for _ in range(r.randrange(0, 300)))

    def _random_text(self):
        r = self.rng
        alphabet = "0123456789 *ABCDEFHJKLMNOPRSTUVXYZabcdefgz{}[]\":,=-_.!?"
        return "".join(r.choice(alphabet) for _ in range(r.randrange(0, 120))).encode()

    def _mutated(self):
        r = self.rng
        line = bytearray(r.choice(self.seeds))
        for _ in range(r.randrange(1, 4)):
            op = r.randrange(6)
            if not line:
                line.append(r.randrange(256))
                continue
            i = r.randrange(len(line))
            if op == 0:
                line[i] ^= 1 << r.randrange(8)
            elif op == 1:
                line[i] = r.randrange(256)
            elif op == 2:
                line.insert(i, r.randrange(256))
            elif op == 3:
                del line[i]
            elif op == 4:
                del line[i:]
            else:
                line[i:i] = line[r.randrange(len(line)):][:20]
        return bytes(line)

    def _bad_but_checksummed(self):
        """A good frame whose command must be refused."""
        r = self.rng
        seq = r.randrange(65536)
        choice = r.randrange(9)
        if choice == 0:
            verb = "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(r.randrange(1, 9)))
            if verb.upper() in VERBS:
                verb += "X"
            text = verb + r.choice(["", " 1", " UP", " beginner"])
        elif choice == 1:
            name = "".join(r.choice("abcdefghijklmnopqrstuvwxyz-") for _ in range(r.randrange(1, 14)))
            text = "RUN " + (name if name not in PROGRAMS else name + "x")
        elif choice == 2:
            text = r.choice(["JOG", "JOG LEFT", "JOG UP UP", "JOG  UP", "PAUSE now", "ACK 1",
                             "HB host", "HB pendant 2", "HELLO 1", "STATUS x", "RUN",
                             "RUN a b", "TELEM", "TELEM 1", "TIME SET", "TIME SET x",
                             "TIME SET 5", "LOGS", "LOGS PULL", "LOGS PULL 7", "CAL",
                             "CAL LEVEL", "PROFILE", "PROFILE PUT {}"])
        elif choice == 3:       # a forged MAC
            text = protocol.sign('PROFILE SET {"level":4,"full_inversion":true}',
                                 r.randrange(1, 1 << 30), OTHER_KEY)
        elif choice == 4:       # the right key, a replayed or stale counter (5 was accepted)
            text = protocol.sign('PROFILE SET {"level":4}', r.randrange(1, 6), KEY)
        elif choice == 5:       # the right MAC on other bytes
            good = protocol.sign('PROFILE SET {"level":2}', 9, KEY)
            text = good.replace('"level":2', '"level":4')
        elif choice == 6:
            text = protocol.sign("CAL LEVEL", r.randrange(1, 1000), OTHER_KEY)
        elif choice == 7:
            text = "PROFILE SET {} CTR=%d MAC=%s" % (r.randrange(1 << 31),
                                                    "".join(r.choice("0123456789abcdefg")
                                                            for _ in range(r.choice([63, 64, 65]))))
        else:
            text = r.choice(READ_ONLY)
        return protocol.frame(seq, text).rstrip(b"\n")

    def line(self):
        r = self.rng
        while True:
            kind = r.randrange(10)
            if kind < 2:
                line = self._random_bytes()
            elif kind < 4:
                line = self._random_text()
            elif kind < 8:
                line = self._mutated()
            else:
                self.count += 1
                return self._bad_but_checksummed()
            if not any(would_act(part) for part in line.split(b"\n")):
                self.count += 1
                return line


def trace_row(rig):
    c = rig.core
    sup = c.supervisor
    return (c.state, c.theta_mdeg, c.setpoint_mdeg, c.duty_permille, c.cap_mdeg,
            c.brake_engaged, c.heartbeat_ok, c.fault, sup.action, sup.alarm,
            c.sequencer.state, c.sequencer.index, rig.app.auth_counter)


def session(fuzzer):
    rig = LinkRig(profile=PROFILE)
    rig.run_until(lambda r: r.core.state == "idle", 300)
    # A clinician has set the profile with counter 5: the fuzz replays 1..5.
    assert rig.call(protocol.sign("PROFILE SET " + json.dumps(PROFILE), 5, KEY)).ok
    ok, why = rig.app.start_program("decompression")
    assert ok, why
    rig.press("start")                 # the person starts it on the table
    start_profile = json.dumps(rig.app.profile, sort_keys=True)
    start_limits = sorted((k, repr(v)) for k, v in vars(rig.app.limits).items())
    rows = []
    fed = 0
    for k in range(TICKS):
        if fuzzer is not None:
            for _ in range(FRAMES_PER_TICK_CALL):
                rig.app.host_line(fuzzer.line())
                fed += 1
            chunk = bytearray()
            while len(chunk) < UART_BYTES_PER_TICK:
                chunk += fuzzer.line() + b"\n"
                fed += 1
            rig.uart.host_write(bytes(chunk))
            rig.uart.flush_instant()
        before_ms = rig.app.now_ms
        rig.tick()
        assert rig.app.now_ms == before_ms + 10          # the tick ran, whole
        rows.append(trace_row(rig))
        rig.uart.host_read()
    assert json.dumps(rig.app.profile, sort_keys=True) == start_profile
    assert sorted((k, repr(v)) for k, v in vars(rig.app.limits).items()) == start_limits
    return rig, rows, fed


def test_fuzz_changes_nothing_in_a_running_closed_loop():
    t0 = time.monotonic()
    _, clean, _ = session(None)
    fuzzer = Fuzzer(SEED)
    rig, fuzzed, fed = session(fuzzer)
    elapsed = time.monotonic() - t0
    assert fed >= 100000 and fuzzer.count == fed
    states = {row[0] for row in clean}
    assert {"moving", "holding"} <= states                 # a session really ran
    for k, (a, b) in enumerate(zip(clean, fuzzed)):
        assert a == b, "tick %d: clean %r fuzzed %r" % (k, a, b)
    link = rig.app.link
    assert link.errors == 0
    assert link.rx_lines > 10000                           # the HostLink path was fuzzed too
    assert rig.dev.hostlink.tx_short_count == 0
    assert rig.app.auth_counter == 5
    print("fuzz: %d lines (%d through HostLink), %d ticks, %.1f s"
          % (fed, link.rx_lines, TICKS, elapsed))
