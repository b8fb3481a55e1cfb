"""Out-of-core fit: the same design in memory and as a chunked dask array read from disk.

A float32 white-noise design (+-1 pixels of a 50 x 30 screen) and the counts
of one Gaussian-RF LNP neuron are written to ``.npy`` files in a scratch
directory (never the repository).  Then, each in a fresh child process so
that its peak resident memory (``VmHWM``) is its own:

* ``memory``: ``np.load`` of the whole design, ``PoissonLNPRegressor.fit``;
* ``dask``: ``da.from_array(NpyRows(path), chunks=(rows, -1))`` (each chunk
  read from the file when a task needs it), the same fit, every pass a
  blockwise reduction over row chunks (threaded scheduler, ``--threads``
  BLAS threads and dask workers).

Reported: wall time, passes over ``X``, time per pass (``X @ w``) and per
gradient (one fused sweep ``X.T @ r(X @ w)``), peak RSS, the
objective of both and their relative difference (target <= 1e-8).  The
extrapolation to a design larger than RAM (24 GiB here) multiplies the
measured time per dask pass by the size ratio: passes are linear in the
rows and the fit's iteration count does not grow with the rows for a
well-conditioned stimulus (measured 19-25 L-BFGS iterations at 20,000 and
100,000 rows in bench_poisson_l2).  Reading from disk rather than the page
cache may be slower than measured here: the disk read speed bounds a pass.

Run::

    python benchmarks/bench_out_of_core.py                  # 200,000 x 1500 float32 (1.2 GB)
    python benchmarks/bench_out_of_core.py --rows 20000     # quick

Writes ``benchmarks/results/out_of_core.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load_average, machine_info, machine_lines, write_json  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
WIDTH, HEIGHT = 50, 30


def write_problem(directory: Path, n_rows: int, chunk_rows: int, seed: int = 0):
    """Write ``X.npy`` (float32) and ``y.npy`` chunk by chunk (bounded memory)."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    rf = np.exp(-((rows - 12.0) ** 2 + (cols - 30.0) ** 2) / (2 * 2.0**2)).ravel()
    w = 0.5 * rf / np.linalg.norm(rf)
    X = np.lib.format.open_memmap(
        directory / "X.npy", mode="w+", dtype=np.float32, shape=(n_rows, WIDTH * HEIGHT)
    )
    y = np.empty(n_rows)
    for start in range(0, n_rows, chunk_rows):
        stop = min(start + chunk_rows, n_rows)
        block = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(stop - start, X.shape[1]))
        X[start:stop] = block
        y[start:stop] = rng.poisson(np.exp(block @ w - 1.5))
    X.flush()
    del X
    np.save(directory / "y.npy", y)


class NpyRows:
    """Row blocks of a 2-d ``.npy`` file, read with ``np.fromfile`` (no memory map).

    ``da.from_array`` calls ``__getitem__`` once per chunk; each call reads its
    rows from the file into a new array, so the process's resident memory
    holds only the chunks in flight (a memory map would count every page it
    touched in the resident set, which ``ru_maxrss`` then reports).
    """

    def __init__(self, path: Path):
        header = np.load(path, mmap_mode="r")  # shape, dtype and data offset only
        assert header.ndim == 2 and header.flags.c_contiguous
        self.path, self.shape, self.dtype, self.ndim = path, header.shape, header.dtype, 2
        self.offset = header.offset
        del header

    def __getitem__(self, key):
        rows, cols = key if isinstance(key, tuple) else (key, slice(None))
        start, stop, step = rows.indices(self.shape[0])
        assert step == 1
        row_bytes = self.shape[1] * self.dtype.itemsize
        with open(self.path, "rb") as handle:
            handle.seek(self.offset + start * row_bytes)
            block = np.fromfile(handle, dtype=self.dtype, count=(stop - start) * self.shape[1])
        return block.reshape(stop - start, self.shape[1])[:, cols]


def peak_rss_bytes() -> int:
    """Peak resident memory of this process: ``VmHWM`` of /proc/self/status.

    (``ru_maxrss`` would do on a fresh process, but Linux carries it over
    ``execve`` from the parent, which wrote the design through a memory map.)
    """
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(path: str, directory: Path, chunk_rows: int, threads: int, alpha: float) -> dict:
    """Fit one way; return the numbers (run in its own process)."""
    from threadpoolctl import threadpool_limits

    from sklearn_lnp import PoissonLNPRegressor
    from sklearn_lnp._objective import PoissonObjective

    y = np.load(directory / "y.npy")
    with threadpool_limits(threads):
        start = time.perf_counter()
        if path == "memory":
            X = np.load(directory / "X.npy")
        else:
            import dask
            import dask.array as da

            dask.config.set(scheduler="threads", num_workers=threads)
            X = da.from_array(NpyRows(directory / "X.npy"), chunks=(chunk_rows, -1))
        load = time.perf_counter() - start
        start = time.perf_counter()
        model = PoissonLNPRegressor(alpha=alpha).fit(X, y)
        fit = time.perf_counter() - start
        objective = PoissonObjective(X, y)
        w = np.full((X.shape[1], 1), 1.0 / X.shape[1])
        start = time.perf_counter()
        for _ in range(3):
            objective.linear_predictor(objective.join(w))
        per_pass = (time.perf_counter() - start) / 3
        start = time.perf_counter()
        for k in range(3):  # value and gradient at a new point: one fused sweep
            objective.value_gradient(objective.join(w * (1.0 + k)))
        per_sweep = (time.perf_counter() - start) / 3
    return {
        "path": path,
        "load_seconds": load,
        "fit_seconds": fit,
        "seconds_per_pass": per_pass,
        "seconds_per_gradient": per_sweep,
        "objective": model.objective_,
        "optimality": model.optimality_,
        "n_iter": model.n_iter_,
        "solver": model.solver_,
        "peak_rss_bytes": peak_rss_bytes(),
        "load_average_after": load_average(),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--chunk-rows", type=int, default=10_000)
    parser.add_argument("--alpha", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ram-gib", type=float, default=24.0, help="RAM to extrapolate to")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--child", choices=["memory", "dask"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = child(args.child, args.data, args.chunk_rows, args.threads, args.alpha)
        print(json.dumps(result))
        return 0
    info = machine_info(args.threads, ["dask"])
    results = []
    with tempfile.TemporaryDirectory(prefix="sklearn_lnp_ooc_") as scratch:
        directory = Path(scratch)
        write_problem(directory, args.rows, args.chunk_rows)
        design_bytes = args.rows * WIDTH * HEIGHT * 4
        for path in ("memory", "dask"):
            command = [
                sys.executable,
                __file__,
                "--child",
                path,
                "--data",
                str(directory),
                "--chunk-rows",
                str(args.chunk_rows),
                "--threads",
                str(args.threads),
                "--alpha",
                str(args.alpha),
            ]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    memory, lazy = results
    rel = abs(lazy["objective"] - memory["objective"]) / abs(memory["objective"])
    ram_bytes = args.ram_gib * 2**30
    factor = ram_bytes * 1.25 / design_bytes  # a design 25% larger than RAM
    passes = lazy["fit_seconds"] / lazy["seconds_per_pass"]
    extrapolated = lazy["fit_seconds"] * factor
    rows = "\n".join(
        f"| {r['path']} | {r['fit_seconds']:.1f} s | {r['seconds_per_pass']:.3f} s "
        f"| {r['seconds_per_gradient']:.3f} s "
        f"| {r['peak_rss_bytes'] / 2**20:.0f} MiB | {r['objective']:.15g} | {r['optimality']:.1e} "
        f"| {r['n_iter']} {r['solver']} | {r['load_average_after']} |"
        for r in results
    )
    command = "python benchmarks/bench_out_of_core.py" + "".join(
        f" --{name.replace('_', '-')} {value if isinstance(value, int) else format(value, 'g')}"
        for name, value in vars(args).items()
        if name in ("rows", "chunk_rows", "alpha", "threads", "ram_gib")
        and value != parser.get_default(name)
    )
    table = (
        f"# Out-of-core fit: {args.rows} x {WIDTH * HEIGHT} float32 design "
        f"({design_bytes / 2**30:.2f} GiB), dask chunks of {args.chunk_rows} rows, "
        f"alpha={args.alpha:g}, tol=1e-8\n\nCommand: `{command}`\n\n"
        + "\n".join(machine_lines(info))
        + "\n\n| path | fit time | time per pass over X (X @ w) "
        "| time per gradient (X.T @ r(X @ w)) | peak RSS of the process | objective "
        "| max abs grad | iterations, solver | load average after |\n"
        "|---|---:|---:|---:|---:|---:|---:|---|---|\n"
        + rows
        + f"\n\nRelative objective difference dask vs memory: {rel:.1e} (target <= 1e-8).\n\n"
        f"The dask fit took the time of {passes:.0f} of its passes. Extrapolation to a design "
        f"25% larger than {args.ram_gib:g} GiB of RAM ({factor:.0f}x these rows, "
        f"{design_bytes * factor / 2**30:.0f} GiB): {extrapolated / 60:.0f} min at the measured "
        "time per pass (page-cache speed; from disk, a pass is at least the file size over the "
        "disk's read speed), with the process still holding only the per-sample vectors "
        f"(~{100 * args.rows * factor / 2**30:.1f} GiB at ~100 bytes per row) plus one chunk "
        "per thread.\n"
    )
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "out_of_core.md").write_text(table)
    write_json(
        args.output / "out_of_core.json",
        {
            "machine": info,
            "rows": args.rows,
            "chunk_rows": args.chunk_rows,
            "design_bytes": design_bytes,
            "results": results,
            "relative_objective_difference": rel,
            "extrapolation_factor": factor,
            "extrapolated_seconds": extrapolated,
        },
    )
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
