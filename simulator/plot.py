"""A picture of one run (PNG): what the table did, what the firmware meant,
and why.

Usage::

    plot(result, "out.png")     # result from runner.run()

Top panel: true angle, the firmware's estimate, its setpoint and the cap in
force, over a background shaded by firmware state; scenario events as grey
lines labelled at the top, emergency triggers as red lines, stretches with
no firmware running (power off, crashed) hatched. Bottom panel: actuator
duty and the brake (firmware command and the real armature).

matplotlib is imported here only, so `run` without --plot never loads it.
"""
from .trace import (R_TICK, R_THETA, R_EST, R_SETPOINT, R_CAP, R_STATE, R_DUTY, R_BRAKE,
                    R_SC_EVENT, R_FW_EVENT, R_BRAKE_ACTUAL, R_TRIGGER)

STATE_COLORS = {
    "boot": "#d9d9d9",
    "idle": "#ffffff",
    "moving": "#cfe3f7",
    "holding": "#d4f0d0",
    "paused": "#fff2b3",
    "jog": "#e6d9f2",
    "returning": "#cdeeee",
    "emergency_return": "#f9c9c4",
    "halted": "#e8a6a6",
}
OTHER_STATE_COLOR = "#eeeeee"
MAX_EVENT_LABELS = 40
WIDTH_IN = 12
HEIGHT_IN = 7
DPI = 160


def _runs(ticks, values):
    """[(value, first_tick, last_tick)] for each stretch of equal values."""
    out = []
    if not ticks:
        return out
    cur = values[0]
    start = ticks[0]
    prev = ticks[0]
    for k, v in zip(ticks, values):
        if v != cur or k != prev + 1 and k != prev:
            out.append((cur, start, prev))
            cur = v
            start = k
        prev = k
    out.append((cur, start, prev))
    return out


def _gaps(ticks):
    """[(first_missing_tick, last_missing_tick)] where no row was written."""
    out = []
    for a, b in zip(ticks, ticks[1:]):
        if b - a > 1:
            out.append((a + 1, b - 1))
    return out


def plot(result, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    rows = result.rows
    s = result.summary
    tick_s = result.tick_ms / 1000.0
    ticks = [r[R_TICK] for r in rows]
    t = [k * tick_s for k in ticks]

    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(WIDTH_IN, HEIGHT_IN), sharex=True,
                                  gridspec_kw={"height_ratios": [3, 1]})
    title = "%s  (board %s, seed %s)" % (s.get("name", ""), s.get("board", ""), s.get("seed", ""))
    fig.suptitle(title, fontsize=13, fontweight="bold")

    # state background
    spans = {}
    for state, a, b in _runs(ticks, [r[R_STATE] for r in rows]):
        spans.setdefault(state, []).append((a * tick_s, (b - a + 1) * tick_s))
    xform = ax.get_xaxis_transform()
    handles = []
    for state, segs in spans.items():
        color = STATE_COLORS.get(state, OTHER_STATE_COLOR)
        ax.broken_barh(segs, (0, 1), transform=xform, facecolors=color, edgecolor="none",
                       zorder=0)
        ax2.broken_barh(segs, (0, 1), transform=ax2.get_xaxis_transform(), facecolors=color,
                        edgecolor="none", zorder=0)
        handles.append(Patch(facecolor=color, edgecolor="#999999", label=state))
    gaps = _gaps(ticks)
    if gaps:
        segs = [(a * tick_s, (b - a + 1) * tick_s) for a, b in gaps]
        for axis in (ax, ax2):
            axis.broken_barh(segs, (0, 1), transform=axis.get_xaxis_transform(),
                             facecolors="none", edgecolor="#555555", hatch="//", zorder=1)
        handles.append(Patch(facecolor="none", edgecolor="#555555", hatch="//",
                             label="firmware off"))

    if rows:
        ax.plot(t, [r[R_CAP] * 0.001 for r in rows], color="#c0392b", lw=1.2, ls=":",
                drawstyle="steps-post", label="cap", zorder=3)
        ax.plot(t, [r[R_SETPOINT] * 0.001 for r in rows], color="#e67e22", lw=1.2,
                label="setpoint", zorder=4)
        ax.plot(t, [r[R_EST] * 0.001 for r in rows], color="#2e86c1", lw=0.8, ls="--",
                label="estimate", zorder=5)
        ax.plot(t, [r[R_THETA] for r in rows], color="#1b2631", lw=1.4,
                label="true angle", zorder=6)
    home = s.get("home_deg")
    if home is not None:
        ax.axhline(home, color="#7f8c8d", lw=0.6, ls="-.", zorder=2)
        ax.text(0.002, home, " home", transform=xform, va="bottom", fontsize=7, color="#7f8c8d")
    ax.axhline(0.0, color="#7f8c8d", lw=0.6, zorder=2)

    # scenario events and emergency triggers
    labelled = 0
    span = (t[-1] - t[0]) if len(t) > 1 else 1.0
    last_x = None
    level = 0
    for r in rows:
        label = r[R_SC_EVENT]
        if not label:
            continue
        x = r[R_TICK] * tick_s
        ax.axvline(x, color="#566573", lw=0.6, alpha=0.7, zorder=2)
        if labelled < MAX_EVENT_LABELS:
            # labels of events close together step down so they do not overprint
            level = (level + 1) % 3 if last_x is not None and x - last_x < span * 0.012 else 0
            ax.text(x, 0.99 - 0.3 * level, " " + label[:40], transform=xform, rotation=90,
                    va="top", ha="right", fontsize=6.5, color="#34495e", zorder=7)
            labelled += 1
            last_x = x
    for r in rows:
        if r[R_TRIGGER]:
            x = r[R_TICK] * tick_s
            for axis in (ax, ax2):
                axis.axvline(x, color="#e74c3c", lw=1.2, zorder=8)
            ax.text(x, 0.02, " " + (r[R_FW_EVENT] or "trigger"), transform=xform,
                    rotation=90, va="bottom", ha="left", fontsize=7, color="#c0392b",
                    fontweight="bold", zorder=9)

    ax.set_ylabel("angle (deg, + = head down)")
    ax.grid(True, lw=0.3, alpha=0.6)
    lines = ax.get_legend_handles_labels()[0]
    ax.legend(handles=lines + handles, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              fontsize=8, frameon=False)

    # drive panel
    if rows:
        ax2.plot(t, [r[R_DUTY] * 0.001 for r in rows], color="#1f618d", lw=1.0,
                 label="actuator duty")
        ax2.fill_between(t, -1.2, -1.05, where=[bool(r[R_BRAKE]) for r in rows],
                         color="#7d3c98", alpha=0.6, step="post", lw=0,
                         label="brake: command")
        ax2.fill_between(t, -1.35, -1.2, where=[bool(r[R_BRAKE_ACTUAL]) for r in rows],
                         color="#c39bd3", alpha=0.8, step="post", lw=0,
                         label="brake: armature")
    ax2.set_ylim(-1.4, 1.1)
    ax2.set_yticks([-1, 0, 1])
    ax2.set_ylabel("duty (-1..1)")
    ax2.set_xlabel("time (s)")
    ax2.grid(True, lw=0.3, alpha=0.6)
    ax2.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)

    fig.subplots_adjust(left=0.07, right=0.83, top=0.92, bottom=0.08, hspace=0.08)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
