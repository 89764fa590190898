"""Host serial link: non-blocking line framing over a UART.

Usage::

    link = HostLink(machine.UART(0, 115200, timeout=0))
    link.poll(on_line)          # every tick; on_line(buf, n) per complete line
    link.write(b"ok\\n")

on_line gets the link's own buffer and the line length (the b"\\n" removed,
anything else such as a b"\\r" left for the protocol parser): it must copy
what it keeps, since the buffer is reused for the next line. Handing out
(buffer, length) instead of a slice keeps poll() free of allocation.

A line longer than the buffer is dropped whole, up to and including its
b"\\n", and counted in oversize_count; framing resumes with the next line.
poll() reads at most max_bytes_per_poll per call so a flood of input cannot
stretch a control tick.
"""
try:
    from micropython import const
except ImportError:
    def const(x):  # type: ignore[misc]
        return x

TYPE_CHECKING = False
if TYPE_CHECKING:
    import machine

_NEWLINE = const(10)
LINE_BYTES = const(256)
_CHUNK_BYTES = const(64)
_MAX_BYTES_PER_POLL = const(512)


class HostLink:
    def __init__(self, uart: "machine.UART", line_bytes: int = LINE_BYTES,
                 max_bytes_per_poll: int = _MAX_BYTES_PER_POLL) -> None:
        self._uart = uart
        self._chunk = bytearray(_CHUNK_BYTES)
        self.line = bytearray(line_bytes)
        self._length = 0
        self._discarding = False
        self._max_bytes_per_poll = max_bytes_per_poll
        self.oversize_count = 0
        self.tx_short_count = 0

    def poll(self, on_line):
        """Read what has arrived; call on_line(buf, n) for each complete line.

        Returns the number of complete lines delivered.
        """
        budget = self._max_bytes_per_poll
        if budget <= 0:
            return 0
        uart = self._uart
        waiting = uart.any()
        if waiting <= 0:
            # Nothing arrived (most ticks): no more work than this.
            return 0
        chunk = self._chunk
        line = self.line
        capacity = len(line)
        lines = 0
        while True:
            want = waiting if waiting < _CHUNK_BYTES else _CHUNK_BYTES
            if want > budget:
                want = budget
            got = uart.readinto(chunk, want)
            if not got:
                break
            budget -= got
            for i in range(got):
                byte = chunk[i]
                if byte == _NEWLINE:
                    if self._discarding:
                        self._discarding = False
                        self.oversize_count += 1
                    else:
                        on_line(line, self._length)
                        lines += 1
                    self._length = 0
                elif self._discarding:
                    continue
                elif self._length < capacity:
                    line[self._length] = byte
                    self._length += 1
                else:
                    # The rest of this line cannot be delivered whole, so none is.
                    self._discarding = True
                    self._length = 0
            if budget <= 0:
                break
            waiting = uart.any()
            if waiting <= 0:
                break
        return lines

    def write(self, data):
        """Queue data on the UART; returns the bytes it took (short writes are counted)."""
        sent = self._uart.write(data)
        if sent is None:
            sent = 0
        if sent < len(data):
            self.tx_short_count += 1
        return sent
