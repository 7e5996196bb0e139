"""Start-up of the command line, before and after, measured side by side in one run.

    python benchmarks/bench_startup.py [--repeat 5] [--before REV]

Each command runs as a fresh process (`python -m service.cli ...`, what the `stance` script
runs), `--repeat` times; the table gives the median wall clock and the largest peak RSS
(`os.wait4`). "before" is the code at REV (default: the last commit before the scoring path
dropped PyTorch), checked out into a temporary git worktree with its own committed default
bundle and run by the same interpreter; "after" is this checkout. Both use an encoder that is
already built (the one-time OpenVINO conversion is not timed: `stance encoder` builds it).

Targets (issue 15): `stance --help` <= 0.5 s; `stance predict "..."` <= 2.5 s cold and peak RSS
<= 400 MiB; `stance score` of a one-row CSV <= 3 s. Exit code 1 when "after" misses one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from revisions import BEFORE_RUNTIME_ENCODER, ROOT, checkout

QUOTE = "We must spend more on defence."
TARGETS = {"help": 0.5, "predict": 2.5, "score one row": 3.0}
PREDICT_RSS_MIB = 400


def run(tree: Path, args: list[str], env: dict) -> tuple[float, float]:
    """Wall-clock seconds and peak RSS (MiB) of one `python -m service.cli ARGS` in `tree`."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", *args],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{tree}: stance {' '.join(args)} failed:\n{process.stderr.read().decode()}")
    process.stderr.close()
    return seconds, usage.ru_maxrss / 1024


def measure(tree: Path, work: Path, repeat: int) -> dict[str, tuple[float, float]]:
    one_row = work / "one.csv"
    one_row.write_text("text\nTalks with Moscow should resume.\n")
    env = os.environ | {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(tree)}
    commands = {
        "help": ["--help"],
        "models": ["models"],
        "predict": ["predict", QUOTE],
        "score one row": ["score", str(one_row), "-o", str(work / "out.csv"), "--force"],
    }
    run(tree, commands["predict"], env)  # the encoder conversion, if any, happens here
    results = {}
    for name, args in commands.items():
        runs = [run(tree, args, env) for _ in range(repeat)]
        results[name] = (statistics.median(s for s, _ in runs), max(m for _, m in runs))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--before", default=BEFORE_RUNTIME_ENCODER, help="git revision to compare with"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, checkout(args.before) as old:
        trees = {"before": old, "after": ROOT} if old else {"after": ROOT}
        results = {}
        for label, tree in trees.items():
            work = Path(scratch) / label
            work.mkdir()
            results[label] = measure(tree, work, args.repeat)
    report(results, args.repeat)


def report(results: dict, repeat: int) -> None:
    labels = list(results)
    print(f"Start-up of `stance` commands (fresh processes, median of {repeat}; peak RSS)")
    header = "".join(f"{label:>22s}" for label in labels)
    print(f"{'command':16s}{header}{'ratio':>8s}{'target':>10s}")
    failed = []
    for name in results["after"]:
        cells = "".join(
            f"{results[label][name][0]:9.2f} s {results[label][name][1]:6.0f} MiB"
            for label in labels
        )
        ratio = (
            f"{results['before'][name][0] / results['after'][name][0]:7.1f}x"
            if "before" in results
            else ""
        )
        target = TARGETS.get(name)
        print(f"{name:16s}{cells}{ratio:>8s}{f'<= {target} s' if target else '':>10s}")
        if target and results["after"][name][0] > target:
            failed.append(f"{name} took {results['after'][name][0]:.2f} s > {target} s")
    rss = results["after"]["predict"][1]
    if rss > PREDICT_RSS_MIB:
        failed.append(f"predict peak RSS {rss:.0f} MiB > {PREDICT_RSS_MIB} MiB")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if failed:
        sys.exit("missed: " + "; ".join(failed))


if __name__ == "__main__":
    main()
