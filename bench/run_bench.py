#!/usr/bin/env python3
"""Run memshim's benchmark and compare, in one run on one machine:
Wine's builtin kernel32 vs memshim (win_bench.exe under Wine, alternately,
--runs times each) and the host's own limits (native_bench: raw syscalls,
glibc, mimalloc, and memshim's core natively).

Prints a table (min-median-max over the runs of each side's per-run median)
and writes results.json, table.md and ratios.svg into --out.

The cost of the observability hooks (issue 8), as more Windows sides in
the same alternation:
  --stats           memshim with statistics on (MEMSHIM_STATS=1: counters,
                    live page, exit report): column "memshim+stats" and the
                    ratio stats/memshim (the goal: within 10%)
  --baseline BUILD2 memshim from a build configured with -Dhooks=false
                    (every hook compiled out): column "memshim-nohooks" and
                    the ratio memshim/nohooks (the goal: within noise)
  --turns N         after the runs, N rounds in which builtin and memshim
                    processes take turns on each TURN_CASES case (one case
                    per process, the order swapped every round); the line
                    "In turns" gives the median of the rounds' memshim/builtin.
                    Cases whose time is mostly wineserver requests or a whole
                    program move with the machine's state within seconds
                    (the VM's wake-up latency changed one request from 5 to
                    50 us between runs), and so do those that walk ~20 MiB
                    at random (the mixed batch took 50 or 80-95 ns a pair
                    with glibc, mimalloc and the core alike, natively, from
                    one process to the next), so the sides are compared
                    seconds apart instead of a run apart (default 5; none
                    with --quick)
  --pinned N        then N more such rounds on PINNED_CASES with both sides'
                    processes, their wineservers and services held on the
                    last CPU (sched_setaffinity). A wineserver request is
                    two wake-ups; on the 2-vCPU VM of the README's figures
                    a request whose wake-ups cross to a halted vCPU costs
                    ~60 us, one that stays on a vCPU ~6 us, and which one a
                    process gets depends on what else runs at the moment
                    (README, "Benchmarks"). Pinned, every request stays on
                    one vCPU, so both sides pay what their requests cost,
                    but a side's background thread no longer runs beside
                    the program. The line "Pinned" gives the median of the
                    rounds' memshim/builtin (default 5; none with --quick)
  --case NAME       only this case (repeatable), e.g. for a smoke run:
    run_bench.py --build build --quick --stats --case heap_small_pairs --case heap_mixed_batch

Usage: run_bench.py --build BUILD [--quick] [--runs N] [--out DIR]
                    [--stats] [--baseline BUILD2] [--case NAME]...
       run_bench.py --build BUILD --replot DIR/results.json
"""
import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time

# The native reference shown for each Windows case: the host's syscalls for
# the VM, section and status cases; mimalloc for the heap cases.
def native_ref(case):
    return "mimalloc" if case.startswith("heap_") else "host"


# Cases that are not per-operation times: the peak resident memory of a
# Windows process that ran one heap case (KiB, Linux's ru_maxrss of the
# process, Wine's own baseline included on both sides), and a real
# program's time per round (program_*: printed by the program itself).
RSS_CASES = ["heap_mixed_batch"]
# Rows that are a ratio of two cases sampled in turns, not a time per
# operation: shown in the scaling line, not as table rows.
RATIO_CASES = ["heap_scaling"]
PROGRAMS = ["huffzip", "jsonpipe"]
# Cases also measured with builtin and memshim processes in turns (--turns).
# Cases whose time is mostly wineserver requests, also measured pinned (--pinned).
PINNED_CASES = ["section_cycle", "section_open_cycle"]
TURN_CASES = ["heap_mixed_batch", "heap_private_cycle", "heap_cross_thread_free",
              "section_cycle", "section_open_cycle", "vm_query", "view_query",
              "program_huffzip", "program_jsonpipe"]


def peak_rss_kib(cmd, env):
    """Run cmd in a fresh Python so RUSAGE_CHILDREN covers only it; its peak RSS in KiB."""
    probe = ("import resource, subprocess, sys\n"
             "p = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)\n"
             "sys.exit(p.returncode) if p.returncode else print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    p = subprocess.run([sys.executable, "-c", probe] + cmd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit("bench: %s failed with exit code %d" % (" ".join(cmd), p.returncode))
    return float(p.stdout.strip())


def parse(text):
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            rows.append(json.loads(line))
    return rows


def pinned_to(cpu):
    """A preexec_fn holding the child (and what it starts) on CPU cpu; None: no pinning."""
    return (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None


def run(cmd, env, cpu=None):
    """Run cmd (on CPU cpu alone, when given); its result rows."""
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       stdin=subprocess.DEVNULL, preexec_fn=pinned_to(cpu))
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit("bench: %s failed with exit code %d" % (" ".join(cmd), p.returncode))
    return parse(p.stdout)


def spread(values):
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def fmt_ns(v):
    if v is None:
        return "-"
    if v >= 1e6:
        return "%.2f ms" % (v / 1e6)
    if v >= 1e3:
        return "%.1f µs" % (v / 1e3)
    return "%.1f ns" % v


def fmt_ratio(r):
    if r is None:
        return "-"
    return "%.2fx" % r if r >= 0.1 else "%.2gx" % r


def fmt_value(case, v):
    if v is not None and case.startswith("rss_"):
        return "%.1f MiB" % (v / 1024)
    return fmt_ns(v)


def fmt_spread(s, case=""):
    if not s:
        return "-"
    return "%s (%s–%s)" % (fmt_value(case, s["median"]), fmt_value(case, s["min"]), fmt_value(case, s["max"]))


def svg_chart(results, path):
    """Horizontal bars: memshim/builtin ratio per case, log scale, 1 = same."""
    cases = [c for c in results["cases"] if results["cases"][c].get("ratio_builtin")]
    w, row, left, top = 760, 22, 230, 40
    h = top + row * len(cases) + 40
    lo, hi = math.log10(0.001), math.log10(100)
    scale = lambda r: left + 40 + (math.log10(max(min(r, 100), 0.001)) - lo) / (hi - lo) * (w - left - 60)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
           'font-size="12">' % (w, h),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="20" font-size="14">memshim time / Wine builtin time per operation '
           '(log scale; left of 1 = memshim faster)</text>']
    for tick in (0.001, 0.01, 0.1, 1, 10, 100):
        x = scale(tick)
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>' %
                   (x, top - 5, x, h - 30, "#000" if tick == 1 else "#ccc"))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%g</text>' % (x, h - 14, tick))
    for i, c in enumerate(cases):
        r = results["cases"][c]["ratio_builtin"]
        y = top + i * row
        x0, x1 = scale(1), scale(r)
        color = "#2a7" if r < 1 else "#c33"
        out.append('<text x="%d" y="%d" text-anchor="end">%s</text>' % (left - 6, y + 14, c))
        out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>' %
                   (min(x0, x1), y + 3, max(abs(x1 - x0), 1), row - 6, color))
        out.append('<text x="%.1f" y="%d" %s>%s</text>' %
                   (x1 + (4 if r >= 1 else -4), y + 14, 'text-anchor="end"' if r < 1 else "", fmt_ratio(r)))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser(description="memshim benchmark: builtin vs memshim vs native")
    ap.add_argument("--build", required=True)
    ap.add_argument("--quick", action="store_true", help="smoke run: every case once, small counts")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=None)
    ap.add_argument("--stats", action="store_true",
                    help="also run memshim with MEMSHIM_STATS=1 (side memshim+stats)")
    ap.add_argument("--baseline", metavar="BUILD2",
                    help="also run memshim from BUILD2, configured with -Dhooks=false (side memshim-nohooks)")
    ap.add_argument("--turns", type=int, default=None, metavar="N",
                    help="rounds of builtin and memshim processes in turns on TURN_CASES (default 5, 0 with --quick)")
    ap.add_argument("--pinned", type=int, default=None, metavar="N",
                    help="rounds in turns on PINNED_CASES with everything on one vCPU (default 5, 0 with --quick)")
    ap.add_argument("--case", action="append", default=[], metavar="NAME",
                    help="only this case (repeatable)")
    ap.add_argument("--replot", metavar="RESULTS_JSON",
                    help="only rewrite table.md and ratios.svg next to an earlier results.json")
    args = ap.parse_args()
    if args.replot:
        with open(args.replot) as f:
            write_reports(json.load(f), os.path.dirname(os.path.abspath(args.replot)))
        return 0
    build = os.path.abspath(args.build)
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = os.path.abspath(args.out or os.path.join(build, "bench-results"))
    os.makedirs(out, exist_ok=True)
    env = dict(os.environ, MEMSHIM_BUILD_DIR=build, WINEDEBUG="-all")
    runner = os.path.join(src, "tests", "run-wine-test")
    win = os.path.join(build, "bench", "win_bench.exe")
    native = os.path.join(build, "bench", "native_bench")
    extra = ["--quick"] if args.quick else []
    case_args = [[c] for c in args.case] or [[]]

    # Windows sides: (name, runner mode, kernel32 the program must report, environment).
    sides = [("builtin", "builtin", "builtin", env), ("memshim", "memshim", "memshim", env)]
    if args.stats:
        sides.append(("memshim+stats", "memshim", "memshim", dict(env, MEMSHIM_STATS="1")))
    if args.baseline:
        base = os.path.abspath(args.baseline)
        if not os.path.isfile(os.path.join(base, "dlls", "kernel32", "kernel32.dll")):
            raise SystemExit("bench: %s has no dlls/kernel32/kernel32.dll (configure it with -Dhooks=false "
                             "and build it)" % base)
        sides.append(("memshim-nohooks", "memshim", "memshim", dict(env, MEMSHIM_BUILD_DIR=base)))

    # Every side's prefix keeps one persistent, idle wineserver for the whole
    # run. Otherwise a side pays for the previous side's server and services
    # winding down, or for its own starting up, while it measures: on a
    # 2-core machine that alone made the side after "builtin" read 2-3x
    # slower in --quick runs. The servers are this build's own prefixes'
    # and are stopped at the end.
    prefixes = []
    for name, mode, impl, side_env in sides:
        p = os.path.join(side_env["MEMSHIM_BUILD_DIR"], "wine", mode)
        if p not in prefixes:
            prefixes.append(p)
    warm_case = case_args[0] or ["heap_small_pairs"]
    for name, mode, impl, side_env in sides:            # creates the prefixes
        try:
            run([runner, mode, win, "--quick"] + warm_case, side_env)
        except SystemExit as e:
            # Seen once in a full test-suite run: the first Wine process of
            # a prefix exited with code 1 after 0.1 s, without a message,
            # right after the previous tests' processes in that prefix (a
            # server winding down). Unmeasured: wait for the server, retry once.
            sys.stderr.write("bench: warm-up failed (%s); waiting for the prefix's wineserver, retrying once\n" % e)
            wineserver(os.path.join(side_env["MEMSHIM_BUILD_DIR"], "wine", mode), "-w")
            run([runner, mode, win, "--quick"] + warm_case, side_env)
    for p in prefixes:
        wineserver(p, "-w")
        wineserver(p, "-p")
    try:
        for name, mode, impl, side_env in sides:        # starts their services
            run([runner, mode, win, "--quick"] + warm_case, side_env)
        time.sleep(3)
        samples, started = measure(args, sides, runner, win, native, extra, case_args, env)
        measure_pinned(args, sides[:2], runner, win, samples)
    finally:
        for p in prefixes:
            wineserver(p, "-k")
    return summarize(args, samples, started, out)


def measure(args, sides, runner, win, native, extra, case_args, env):
    """--runs rounds over every side (alternating, so drift hits all of them) and the native bench."""
    samples = {}        # (case, impl) -> [median per run]
    started = time.time()
    for r in range(args.runs):
        for name, mode, impl, side_env in sides:       # alternate, so drift hits every side
            for cargs in case_args:
                for row in run([runner, mode, win] + extra + cargs, side_env):
                    if row["impl"] != impl:
                        raise SystemExit("bench: %s run reports kernel32 %r" % (name, row["impl"]))
                    # "ratio" rows: two cases sampled in turns (bench_common.h bench_turns)
                    value = row["ratio"] if "ratio" in row else row["ns"]
                    samples.setdefault((row["case"], name), []).append(value)
        for name, mode, impl, side_env in ([] if args.case else sides):
            for case in RSS_CASES:
                kib = peak_rss_kib([runner, mode, win, "--quick", case], side_env)
                samples.setdefault(("rss_" + case, name), []).append(kib)
            for prog in PROGRAMS:
                exe = os.path.join(os.path.dirname(win), prog + ".exe")
                for row in run([runner, mode, exe, "2" if args.quick else "9"], side_env):
                    if row["impl"] != impl:
                        raise SystemExit("bench: %s run reports kernel32 %r" % (name, row["impl"]))
                    samples.setdefault((row["case"], name), []).append(row["ns"])
        for cargs in case_args:
            for row in run([native] + extra + cargs, env):
                # "ratio" rows: core/mimalloc sampled in turns (native_bench.c)
                value = row["ratio"] if "ratio" in row else row["ns"]
                samples.setdefault((row["case"], "native-" + row["impl"]), []).append(value)
        if not args.case or "heap_two_threads" in args.case:
            # The machine's own two-thread ceiling, for judging the heap's.
            cpu = os.path.join(os.path.dirname(native), "cpu_scaling")
            for row in run([cpu] + extra, env):
                samples.setdefault((row["case"], "native-" + row["impl"]), []).append(row["scaling"])
    measure_in_turns(args, sides[:2], runner, win, samples)
    return samples, started


def rounds_in_turns(sides, runner, win, cases, rounds, key, samples, cpu=None):
    """Rounds in which builtin and memshim processes run one after the other
    on each case, the order swapped every round (on CPU cpu alone, when
    given); one memshim/builtin ratio per round and case, under (case, key)."""
    for r in range(rounds):
        for case in cases:
            ns = {}
            for name, mode, impl, side_env in (sides if r % 2 == 0 else sides[::-1]):
                if case.startswith("program_"):
                    exe = os.path.join(os.path.dirname(win), case[len("program_"):] + ".exe")
                    cmd = [runner, mode, exe, "9"]
                else:
                    cmd = [runner, mode, win, case]
                for row in run(cmd, side_env, cpu):
                    if row["impl"] != impl:
                        raise SystemExit("bench: %s run reports kernel32 %r" % (name, row["impl"]))
                    if row["case"] == case:
                        ns[name] = row["ns"]
            if "builtin" in ns and "memshim" in ns:
                samples.setdefault((case, key), []).append(ns["memshim"] / ns["builtin"])


def measure_in_turns(args, sides, runner, win, samples):
    """--turns rounds on TURN_CASES, under (case, "turns")."""
    turns = args.turns if args.turns is not None else (0 if args.quick else 5)
    cases = [c for c in TURN_CASES if not args.case or c in args.case]
    rounds_in_turns(sides, runner, win, cases, turns, "turns", samples)


def measure_pinned(args, sides, runner, win, samples):
    """--pinned rounds: the rounds of --turns on PINNED_CASES with each
    side's wineserver restarted on the last CPU, and every process of the
    side (the program, its services) started there, so that no request
    waits for another vCPU to wake up; under (case, "pinned")."""
    rounds = args.pinned if args.pinned is not None else (0 if args.quick else 5)
    cases = [c for c in PINNED_CASES if not args.case or c in args.case]
    if not rounds or not cases:
        return
    cpu = max(os.sched_getaffinity(0))
    for name, mode, impl, side_env in sides:
        prefix = os.path.join(side_env["MEMSHIM_BUILD_DIR"], "wine", mode)
        wineserver(prefix, "-k")
        wineserver(prefix, "-w")
        wineserver(prefix, "-p", cpu=cpu)
        run([runner, mode, win, "--quick", cases[0]], side_env, cpu)    # starts its services
    time.sleep(3)
    rounds_in_turns(sides, runner, win, cases, rounds, "pinned", samples, cpu)


def wineserver(prefix, *args, cpu=None):
    """Run `wineserver ARGS` for one of this build's own prefixes (never without WINEPREFIX)."""
    subprocess.run(["wineserver"] + list(args), env=dict(os.environ, WINEPREFIX=prefix),
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   preexec_fn=pinned_to(cpu))


def summarize(args, samples, started, out):
    """results.json, table.md and ratios.svg from the samples."""
    cases = []
    for (case, impl) in samples:
        if not impl.startswith("native-") and case not in cases and case not in RATIO_CASES:
            cases.append(case)
    results = {"machine": {"cpu": cpu_name(), "cores": os.cpu_count(), "kernel": platform.release(),
                           "wine": wine_version()},
               "quick": args.quick, "runs": args.runs,
               "turns": max((len(v) for (c, impl), v in samples.items() if impl == "turns"), default=0),
               "pinned": max((len(v) for (c, impl), v in samples.items() if impl == "pinned"), default=0),
               "seconds": round(time.time() - started, 1), "cases": {}}
    for case in cases:
        entry = {impl: spread(v) for (c, impl), v in samples.items() if c == case}
        b, m = entry.get("builtin"), entry.get("memshim")
        ref = entry.get("native-" + native_ref(case))
        entry["native_ref"] = native_ref(case)
        entry["ratio_builtin"] = m["median"] / b["median"] if b and m else None
        entry["ratio_native"] = m["median"] / ref["median"] if ref and m else None
        st, nh = entry.get("memshim+stats"), entry.get("memshim-nohooks")
        entry["ratio_stats"] = st["median"] / m["median"] if st and m else None
        entry["ratio_hooks"] = m["median"] / nh["median"] if nh and m else None
        turns = samples.get((case, "turns"))
        entry["ratio_builtin_turns"] = spread(turns) if turns else None
        entry.pop("turns", None)
        pinned = samples.get((case, "pinned"))
        entry["ratio_builtin_pinned"] = spread(pinned) if pinned else None
        entry.pop("pinned", None)
        results["cases"][case] = entry
    # Two-thread scaling: one thread's time per pair over two threads' time
    # per pair (each thread doing half the pairs), per side; and the
    # machine's ceiling for code that leaves a core's units idle (latency)
    # or keeps them busy (throughput) from cpu_scaling.
    # Windows sides sample the two cases in turns and report the ratio
    # itself (heap_scaling: median over runs of each run's median ratio);
    # the native sides' comes from the two cases' medians.
    one, two = results["cases"].get("heap_small_pairs", {}), results["cases"].get("heap_two_threads", {})
    scaling = {impl: one[impl]["median"] / two[impl]["median"]
               for impl in one if isinstance(one[impl], dict) and impl in two and "median" in one[impl]}
    for (case, impl), v in samples.items():
        if case == "heap_scaling":
            scaling[impl] = statistics.median(v)
    for kind in ("latency", "throughput"):
        v = samples.get(("cpu_scaling_" + kind, "native-machine"))
        if v:
            scaling["machine-" + kind] = statistics.median(v)
    results["scaling"] = scaling
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    write_reports(results, out)
    return 0


def rounds_line(results, cases, key, title, rounds):
    """The line of one kind of process-level rounds (key: ratio_builtin_turns or _pinned), or ''."""
    measured = [(c, results["cases"][c][key]) for c in cases if results["cases"][c].get(key)]
    if not measured:
        return ""
    return ("\n%s, %d rounds; median of the rounds' memshim/builtin, min–max): " % (title, rounds) +
            ", ".join("%s %s (%s–%s)" % (c, fmt_ratio(t["median"]), fmt_ratio(t["min"]), fmt_ratio(t["max"]))
                      for c, t in measured) + "\n")


def write_reports(results, out):
    """table.md and ratios.svg from the results; prints the table."""
    cases = list(results["cases"])
    lines = ["| case | builtin | memshim | native ref | memshim/builtin | memshim/native | core (native) "
             "| core/mimalloc (in turns) |",
             "|---|---|---|---|---|---|---|---|"]
    for case in cases:
        e = results["cases"][case]
        paired = e.get("native-core/mimalloc")
        lines.append("| %s | %s | %s | %s: %s | %s | %s | %s | %s |" % (
            case, fmt_spread(e.get("builtin"), case), fmt_spread(e.get("memshim"), case), e["native_ref"],
            fmt_ns(e.get("native-" + e["native_ref"], {}).get("median")),
            fmt_ratio(e["ratio_builtin"]), fmt_ratio(e["ratio_native"]),
            fmt_ns(e.get("native-core", {}).get("median")),
            "%s (%s–%s)" % (fmt_ratio(paired["median"]), fmt_ratio(paired["min"]), fmt_ratio(paired["max"]))
            if paired else "-"))
    table = "\n".join(lines) + "\n"
    # The hooks' cost, when measured (--stats, --baseline).
    if any(results["cases"][c].get("ratio_stats") or results["cases"][c].get("ratio_hooks") for c in cases):
        table += ("\n| case | memshim-nohooks | memshim (hooks, off) | memshim+stats | hooks off/no hooks "
                  "| stats on/off |\n|---|---|---|---|---|---|\n")
        for case in cases:
            e = results["cases"][case]
            table += "| %s | %s | %s | %s | %s | %s |\n" % (
                case, fmt_spread(e.get("memshim-nohooks"), case), fmt_spread(e.get("memshim"), case),
                fmt_spread(e.get("memshim+stats"), case), fmt_ratio(e.get("ratio_hooks")),
                fmt_ratio(e.get("ratio_stats")))
    sc = results.get("scaling") or {}
    if sc:
        names = [("builtin", "builtin"), ("memshim", "memshim"), ("memshim+stats", "memshim+stats"),
                 ("memshim-nohooks", "memshim-nohooks"), ("native-mimalloc", "mimalloc (native)"),
                 ("native-core", "core (native)"), ("native-glibc", "glibc (native)"),
                 ("machine-latency", "this machine, latency-bound loop"),
                 ("machine-throughput", "this machine, throughput-bound loop")]
        table += ("\nTwo-thread scaling (heap_small_pairs / heap_two_threads per pair; the machine's "
                  "ceiling from bench/cpu_scaling.c): " +
                  ", ".join("%s %.2fx" % (label, sc[k]) for k, label in names if k in sc) + "\n")
    table += rounds_line(results, cases, "ratio_builtin_turns", "In turns (builtin and memshim processes "
                         "alternating on one case", results.get("turns", 0))
    table += rounds_line(results, cases, "ratio_builtin_pinned", "Pinned (the same, with both sides' processes "
                         "and wineservers on one vCPU", results.get("pinned", 0))
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(table)
    svg_chart(results, os.path.join(out, "ratios.svg"))
    print(table)
    print("machine: %s, %d cores, Linux %s, Wine %s; %d run(s)%s, %.0f s" % (
        results["machine"]["cpu"], results["machine"]["cores"], results["machine"]["kernel"],
        results["machine"]["wine"], results["runs"], " (quick)" if results["quick"] else "", results["seconds"]))
    print("written: %s/{results.json,table.md,ratios.svg}" % out)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def wine_version():
    try:
        return subprocess.run(["wine", "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True).stdout.strip()
    except OSError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
