"""Terminal output: text progress bars, one-line status, the monitor screen.

No dependency beyond the standard library: ANSI escapes on a terminal, one
plain line at a time when stdout is a pipe or a file.
"""
import sys

CLEAR_TO_END = "\x1b[J"


def bar(fraction, width=24):
    fraction = 0.0 if fraction < 0 else 1.0 if fraction > 1 else fraction
    full = int(round(fraction * width))
    return "[" + "#" * full + "-" * (width - full) + "]"


def mmss(seconds):
    seconds = max(0, int(seconds))
    return "%02d:%02d" % (seconds // 60, seconds % 60)


def status_line(t):
    """One line from a telemetry dict."""
    parts = ["%-16s" % t.get("st", "?"),
             "angle %6.1f" % t.get("ang", 0.0),
             "setpoint %6.1f" % t.get("sp", 0.0),
             "cap %4.0f" % t.get("cap", 0.0),
             "hold %s" % mmss(t.get("hold", 0)),
             "traction %3.0f%%" % (100 * t.get("trac", 0.0)),
             "heartbeat %s" % ("ok" if t.get("hb") else "--")]
    if t.get("al"):
        parts.append("ALARM")
    if t.get("f"):
        parts.append("fault %s" % t["f"])
    return "  ".join(parts)


def plain_line(t, elapsed_s):
    """key=value line for logs and scripts."""
    return ("t=%.1f st=%s ang=%.1f sp=%.1f cap=%.0f hold=%d trac=%.2f hb=%d al=%d f=%s"
            % (elapsed_s, t.get("st", "?"), t.get("ang", 0.0), t.get("sp", 0.0),
               t.get("cap", 0.0), t.get("hold", 0), t.get("trac", 0.0), t.get("hb", 0),
               t.get("al", 0), t.get("f") or "-"))


class Screen:
    """A block of lines redrawn in place (or printed plainly when not a tty)."""

    def __init__(self, out=None):
        self.out = out or sys.stdout
        self.tty = hasattr(self.out, "isatty") and self.out.isatty()
        self._drawn = 0

    def draw(self, lines):
        out = self.out
        if self.tty:
            if self._drawn:
                out.write("\x1b[%dF" % self._drawn)
            out.write(CLEAR_TO_END)
            out.write("\n".join(lines) + "\n")
            self._drawn = len(lines)
        else:
            out.write(lines[0] + "\n")
        out.flush()

    def note(self, text):
        """A line that stays (an event) above the redrawn block."""
        out = self.out
        if self.tty and self._drawn:
            out.write("\x1b[%dF" % self._drawn + CLEAR_TO_END)
            self._drawn = 0
        out.write(text + "\n")
        out.flush()

    def progress(self, text):
        """One line that rewrites itself (a tty) or is printed (otherwise)."""
        out = self.out
        if self.tty:
            out.write("\r" + text[:150] + "\x1b[K")
        else:
            out.write(text + "\n")
        out.flush()

    def end_progress(self):
        if self.tty:
            self.out.write("\n")
            self.out.flush()

    def close(self):
        self._drawn = 0
