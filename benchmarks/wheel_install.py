"""Packaging: the wheel's size, and the time the README's install line takes into a fresh venv.

    python benchmarks/wheel_install.py --reps 3

Builds the wheel with the README's build line (`pip wheel --no-deps --wheel-dir dist .`, into a temp folder),
then, `--reps` times, creates a fresh venv and times the README's install line pointed at it, with
`-c constraints.txt` (the tested versions; pip's cache warm, as on any machine that installed once before).
Prints a markdown table.
"""
import argparse, os, shlex, statistics, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_packaging import CLEAN_ENV, DIST, at, readme_lines  # the README's lines, parsed one way for test and benchmark


def sh(*cmd, cwd):
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True, env=CLEAN_ENV, cwd=cwd)


def main(reps=3):
    build, install = readme_lines()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp); dist = tmp / "dist"
        sh(sys.executable, "-m", *at(build, dist), "-q", cwd=ROOT)
        (whl,) = dist.glob("*.whl")
        name, size = whl.name, whl.stat().st_size
        times = []
        for i in range(reps):
            venv = tmp / f"venv{i}"
            sh(sys.executable, "-m", "venv", venv, cwd=tmp)
            t = time.perf_counter()
            sh(venv / "bin" / "python", "-m", *at(install, dist), "-c", ROOT / "constraints.txt", "-q",
               "--disable-pip-version-check", cwd=tmp)
            times.append(time.perf_counter() - t)
            print(f"install {i + 1}/{reps}: {times[-1]:.1f} s", file=sys.stderr, flush=True)
    line = shlex.join(install)
    print(f"| measurement | value | command |\n|---|---:|---|")
    print(f"| wheel `{name}` | {size:,} bytes | `{' '.join(build)}` |")
    print(f"| `{line} -c constraints.txt` into a fresh venv (pip cache warm), median of {reps} | "
          f"{statistics.median(times):.0f} s ({min(times):.0f}-{max(times):.0f} s) | `python benchmarks/wheel_install.py --reps {reps}` |")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    main(ap.parse_args().reps)
