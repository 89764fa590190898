"""Command line (CONTRACT.md, "Commands").

    python -m simulator run SCENARIO.json --trace OUT.csv --summary OUT.json [--plot OUT.png]
    python -m simulator serve [--board NAME] [--scenario SCENARIO.json]

Exit status: 0 when the scenario ran (whatever the table did); 2 with one
line "error: ..." on stderr when the scenario (or a command-line argument) is
invalid.
"""
import argparse
import json
import os
import sys

SHOWN = 6   # emergencies and resets listed in the short summary on stdout


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # one line, no usage block: the contract promises a single line on stderr
        sys.stderr.write("error: %s (see python -m simulator --help)\n" % message)
        sys.exit(2)


def _parser():
    p = _Parser(prog="python -m simulator",
                description="Inversion-table firmware against a model of the board.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    r = sub.add_parser("run", help="simulate a scenario on a virtual clock, as fast as possible")
    r.add_argument("scenario", help="scenario file (JSON, see CONTRACT.md)")
    r.add_argument("--trace", help="write the trace here (CSV, one row per control tick)")
    r.add_argument("--summary", help="write the summary here (JSON)")
    r.add_argument("--plot", help="write a picture of the run here (PNG)")
    r.add_argument("--debug", action="store_true",
                   help="print the firmware's tracebacks to stderr when it raises")
    s = sub.add_parser("serve", help="run the simulated board in real time behind a serial port")
    s.add_argument("--board", help="board file name from boards/ (default: the scenario's,"
                                   " else esp32-devkitc-actuator)")
    s.add_argument("--scenario", help="apply this scenario's person, profile and events")
    return p


def _fail(message):
    sys.stderr.write("error: %s\n" % " ".join(str(message).split()))
    return 2


def _human(s):
    lines = ["%s on %s: %.1f s simulated, final state %s"
             % (s["name"], s["board"], s["duration_s"], s["final_state"])]
    if s["max_theta_deg"] is not None:
        lines.append("  max theta %.2f deg, max over cap %+.2f deg, inverted %.1f s"
                     % (s["max_theta_deg"], s["max_over_cap_deg"], s["inverted_s"]))
    holds = ", ".join("%s: %.1f s" % kv for kv in s["longest_hold_s"].items())
    lines.append("  longest holds: " + holds)
    for e in s["emergencies"][:SHOWN]:
        lines.append("  emergency %s at %.2f s (theta %.1f): response %s s, home %s s"
                     % (e["trigger"], e["t_s"], e["theta_deg"], e["response_s"], e["home_s"]))
    if len(s["emergencies"]) > SHOWN:
        lines.append("  ... %d emergencies in all" % len(s["emergencies"]))
    if s["faults"]:
        lines.append("  faults: " + ", ".join("%s at %.2f s" % (f["code"], f["t_s"])
                                              for f in s["faults"]))
    for r in s.get("resets", [])[:SHOWN]:
        lines.append("  reset at %.2f s: %s%s" % (r["t_s"], r["cause"],
                     (" (%s: %s)" % (r["where"], r["message"])) if r.get("where") else ""))
    if s.get("reset_count", 0) > SHOWN:
        lines.append("  ... %d resets in all" % s["reset_count"])
    return "\n".join(lines)


def _write_json(path, data):
    with open(path, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")


def cmd_run(args):
    from .scenario import load_scenario, ScenarioError
    try:
        sc = load_scenario(args.scenario)
    except ScenarioError as exc:
        return _fail("%s: %s" % (args.scenario, exc))
    for path in (args.trace, args.summary, args.plot):
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            return _fail("%s: the folder does not exist" % path)
    from .runner import run
    result = run(sc, debug=sys.stderr if args.debug else None)
    if args.trace:
        from .trace import write_trace
        write_trace(args.trace, result.rows, result.tick_ms)
    if args.summary:
        _write_json(args.summary, result.summary)
    if args.plot:
        from .plot import plot
        plot(result, args.plot)
    try:
        print(_human(result.summary), flush=True)
    except BrokenPipeError:
        # stdout piped into something that stopped reading (head): the files are written
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def cmd_serve(args):
    from .scenario import ScenarioError
    from .serve import serve
    try:
        return serve(args.board, args.scenario)
    except ScenarioError as exc:
        return _fail(exc)


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.command == "run":
        return cmd_run(args)
    return cmd_serve(args)


if __name__ == "__main__":
    sys.exit(main())
