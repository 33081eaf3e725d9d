"""Helpers shared by the comparison scripts: a clean BLAS environment, timing, and `deepgemm bench`."""
import json
import os
import statistics
import subprocess
import time

BLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def clean_environment(threads):
    """The environment both sides run with: no BLAS core overrides, optional thread count."""
    env = {key: value for key, value in os.environ.items() if key not in BLAS_OVERRIDES}
    if threads:
        env["DG_NUM_THREADS"] = str(threads)
        for name in THREAD_VARIABLES:
            env[name] = str(threads)
    return env


def adopt_environment(env):
    """Makes `env` this process's environment (NumPy reads threads and BLAS overrides when it loads)."""
    os.environ.clear()
    os.environ.update(env)


def median_seconds(body, runs):
    """Median time of `runs` calls of body after one warm-up."""
    body()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def deepgemm_bench(binary, op, options, env):
    """The JSON object `deepgemm bench OP OPTIONS... --json` prints."""
    command = [binary, "bench", op, *[str(option) for option in options], "--json"]
    output = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])
