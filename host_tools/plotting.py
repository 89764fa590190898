"""A PNG of a CSV log or trace: angles against time, states shaded.

Reads any CSV with a header. Time: the first of t_s, t, time_s, time
(else the row number). Angles: theta_deg, theta_est_deg, setpoint_deg,
cap_deg (simulator traces, `invertctl monitor --record`), else every
numeric column. A `state` column shades the inverted-and-moving stretches.
"""
import csv

from .link import LinkError

TIME_COLUMNS = ("t_s", "t", "time_s", "time")
ANGLE_COLUMNS = ("theta_deg", "theta_est_deg", "setpoint_deg", "cap_deg")
SHADE = {"emergency_return": "#f4a6a6", "halted": "#d9534f", "holding": "#cfe8cf",
         "paused": "#fff1b8", "returning": "#d6e4f5"}


def _float(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def read_csv(path):
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise LinkError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
    except csv.Error as exc:
        raise LinkError("%s is not a CSV file: %s" % (path, exc)) from None
    if not rows:
        raise LinkError("%s has no data rows" % path)
    return rows


def plot_csv(path, out_png, title=None):
    rows = read_csv(path)
    columns = list(rows[0].keys())
    tcol = next((c for c in TIME_COLUMNS if c in columns), None)
    ys = [c for c in ANGLE_COLUMNS if c in columns]
    if not ys:
        ys = [c for c in columns if c != tcol and c is not None
              and any(_float(r.get(c)) is not None for r in rows[:50])]
    if not ys:
        raise LinkError("%s has no numeric columns to plot" % path)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise LinkError("matplotlib is not installed (pip install matplotlib)") from None
    t = [(_float(r.get(tcol)) if tcol else i) for i, r in enumerate(rows)]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for c in ys:
        pts = [(x, _float(r.get(c))) for x, r in zip(t, rows)]
        pts = [(x, y) for x, y in pts if x is not None and y is not None]
        if pts:
            style = "--" if c == "cap_deg" else "-"
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=c, linewidth=1.2)
    if "state" in columns and tcol:
        start = None
        for i, r in enumerate(rows):
            st = r.get("state")
            prev = rows[i - 1].get("state") if i else None
            if st != prev:
                if start is not None and prev in SHADE and t[start] is not None and t[i] is not None:
                    ax.axvspan(t[start], t[i], color=SHADE[prev], alpha=0.5, linewidth=0)
                start = i
    ax.axhline(0, color="#888", linewidth=0.6)
    ax.set_xlabel(tcol or "row")
    ax.set_ylabel("degrees (+ head down)")
    ax.set_title(title or path)
    ax.legend(loc="best", fontsize="small")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    try:
        fig.savefig(out_png, dpi=110)
    except OSError as exc:
        raise LinkError("cannot write %s: %s" % (out_png, exc.strerror or exc)) from None
    finally:
        plt.close(fig)
    return len(rows), ys
