# Checks that run the same on CPython and on the MicroPython VM: the CPython
# test computes these values too and compares them with what the VM printed,
# so the firmware's session logic and the emulated flash are shown to behave
# identically on both. Plain Python; randomness from xorshift32 only.
from session.storage import crc32

_MASK = 0xFFFFFFFF


class XorShift:
    def __init__(self, seed):
        self.x = (seed * 2654435761 + 0x9E3779B9) & _MASK or 1

    def below(self, n):
        x = self.x
        x ^= (x << 13) & _MASK
        x ^= x >> 17
        x ^= (x << 5) & _MASK
        self.x = x
        return x % n


def progression_run(progression, histories=300, sessions=40):
    """Random session histories through decide(). Returns (problem or "",
    CRC32 of every decision) and checks the R3 properties on the way."""
    rng = XorShift(11)
    acc = 0
    for h in range(histories):
        full = rng.below(2) == 1
        level = rng.below(progression.top_level(full) + 1)
        hist = []
        day = 1000
        last_change = None
        levels = bytearray()
        for i in range(sessions):
            day += rng.below(4)
            today = day if rng.below(4) else None
            kind = rng.below(3)
            hist.append([today, level, kind == 0, kind == 1])
            hist = hist[-progression.HISTORY_MAX:]
            new, _ = progression.decide(hist, level, full, today)
            if new > progression.top_level(full):
                return "above the top level", 0
            if new > level:
                if today is None:
                    return "level-up without a date", 0
                if last_change is not None and day - last_change < progression.DAYS_PER_LEVEL:
                    return "two level changes within 2 days", 0
            if abs(new - level) > 1:
                return "jumped a level", 0
            if new != level:
                last_change = day
            level = new
            levels.append(level)
        acc = crc32(levels, acc)
    return "", acc


def flash_digest(FlashFs, PowerLost, Storage):
    """CRC32 of the flash images after seeded writes with power cuts."""
    acc = 0
    for seed in range(12):
        fs = FlashFs(seed, seed % 2 == 0)
        s = Storage(fs)
        for k in range(6):
            fs.cut_at(1 + (seed * 7 + k * 3) % 9)
            try:
                s.write("rec%d" % (k % 2), ("v%d-%d" % (seed, k)).encode() * (40 + k * 60))
            except PowerLost:
                pass
            fs.power_on()
        for name in fs.listdir():
            acc = crc32(name.encode(), acc)
            acc = crc32(bytes(fs.files[name]), acc)
    return acc
