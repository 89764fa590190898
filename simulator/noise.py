"""Deterministic noise that is bit-identical under CPython and MicroPython.

Usage::

    rng = Rng(seed)
    rng.next_u32()        # xorshift32
    rng.uniform()         # [0, 1)
    rng.gauss()           # ~N(0, 1), from a fixed table

`random` is not used: its generator differs between the two VMs. Every
value here comes from integer xorshift32 and exact float operations
(integer / 2**32, sums), so the same seed gives the same numbers on both.

Gaussians come from a table of GAUSS_N values (each the sum of 12 uniforms
minus 6: mean 0, variance 1, tails cut at 6 sigma), built once per process
from a fixed seed. A draw picks a table entry with the scenario's
generator: one xorshift step per draw, cheap enough for the per-tick
sensor models.
"""

MASK32 = 0xFFFFFFFF
GAUSS_BITS = 12
GAUSS_N = 1 << GAUSS_BITS
GAUSS_MASK = GAUSS_N - 1
_INV_2_32 = 1.0 / 4294967296.0


def _xorshift32(x):
    x ^= (x << 13) & MASK32
    x ^= x >> 17
    x ^= (x << 5) & MASK32
    return x


def _seed_state(seed):
    # Spread small seeds (0, 1, 2 ...) over the state space; never 0.
    x = (int(seed) * 2654435761 + 0x9E3779B9) & MASK32
    if x == 0:
        x = 0x6D2B79F5
    for _ in range(8):
        x = _xorshift32(x)
    return x


def _build_table():
    # Integer sums and one float multiply per entry: exact (the same bits on
    # both VMs) and no float garbage, which on MicroPython would leave the
    # table's floats scattered over a fragmented heap.
    x = _seed_state(0x5EED)
    table = [0.0] * GAUSS_N
    six = 6 << 32
    for i in range(GAUSS_N):
        acc = 0
        for _ in range(12):
            x = _xorshift32(x)
            acc += x
        table[i] = (acc - six) * _INV_2_32
    return table


GAUSS_TABLE = _build_table()

FRAMES_BITS = 10
FRAMES_N = 1 << FRAMES_BITS
_frames = {}


def gauss_frames(width):
    """FRAMES_N tuples of `width` N(0, 1) values from the table (built once
    per width and process; they share the table's float objects), for
    models that draw several values per sample: one lookup and a tuple
    unpack instead of `width` draws. Pick a frame with the top FRAMES_BITS
    bits of a 32-bit generator."""
    f = _frames.get(width)
    if f is None:
        x = _seed_state(0xF2A3 + width)
        f = [None] * FRAMES_N
        row = [0.0] * width
        for i in range(FRAMES_N):
            for j in range(width):
                x = _xorshift32(x)
                row[j] = GAUSS_TABLE[x & GAUSS_MASK]
            f[i] = tuple(row)
        _frames[width] = f
    return f


class Rng:
    def __init__(self, seed, stream=0):
        """stream: independent generators from one scenario seed (IMU, ADC ...)."""
        self.state = _seed_state(int(seed) * 7919 + int(stream) * 104729 + int(stream))
        self._table = GAUSS_TABLE

    def next_u32(self):
        x = self.state
        x ^= (x << 13) & MASK32
        x ^= x >> 17
        x ^= (x << 5) & MASK32
        self.state = x
        return x

    def uniform(self):
        return self.next_u32() * _INV_2_32

    def gauss(self):
        x = self.state
        x ^= (x << 13) & MASK32
        x ^= x >> 17
        x ^= (x << 5) & MASK32
        self.state = x
        return self._table[x & GAUSS_MASK]

    def chance(self, p):
        """True with probability p."""
        return self.next_u32() < p * 4294967296.0
