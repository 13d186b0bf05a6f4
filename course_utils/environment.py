"""What the machine offers the notebooks: usable CPUs, and the versions in use.

``pm.sample(cores=...)`` starts one worker process per core it is given. On a laptop, on a
2-CPU CI runner and on a 1-CPU JupyterHub pod the right number differs, and
``os.cpu_count()`` counts CPUs the process may not use (a container's CPU quota, a task
affinity). :func:`sampler_cores` gives the notebooks the CPUs they can actually use, at most
one per chain. The draws do not depend on it: PyMC seeds every chain from ``random_seed``.
"""

from __future__ import annotations

import importlib.metadata
import math
import os
import platform
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["available_cpus", "cgroup_cpu_limit", "sampler_cores", "versions"]

CGROUP_V2_MAX = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def cgroup_cpu_limit(read: Callable[[Path], str | None] = _read) -> float | None:
    """Return the CPU quota of this process's cgroup, in CPUs (``None`` when unlimited).

    cgroup v2 writes ``"<quota> <period>"`` (or ``"max <period>"``) to ``cpu.max``; cgroup v1
    writes the quota (``-1`` when unlimited) and the period to two files.

    Parameters
    ----------
    read : callable, optional
        Reads a file, returning ``None`` when it does not exist (the tests pass fakes).

    Returns
    -------
    float or None
        Quota divided by period, e.g. ``1.5``; ``None`` without a limit.

    Examples
    --------
    >>> files = {CGROUP_V2_MAX: "150000 100000"}
    >>> cgroup_cpu_limit(files.get)
    1.5
    >>> cgroup_cpu_limit({CGROUP_V2_MAX: "max 100000"}.get) is None
    True
    """
    v2 = read(CGROUP_V2_MAX)
    if v2 is not None:
        quota, _, period = v2.partition(" ")
        if quota == "max" or not period:
            return None
        return int(quota) / int(period)
    quota_v1, period_v1 = read(CGROUP_V1_QUOTA), read(CGROUP_V1_PERIOD)
    if quota_v1 is None or period_v1 is None or int(quota_v1) <= 0:
        return None
    return int(quota_v1) / int(period_v1)


def available_cpus(
    *,
    affinity: Callable[[], Sequence[int]] | None = None,
    limit: Callable[[], float | None] = cgroup_cpu_limit,
) -> int:
    """Return how many CPUs this process can use: its affinity, capped by its cgroup quota.

    Parameters
    ----------
    affinity : callable, optional
        Returns the CPUs the process may run on (default: ``os.sched_getaffinity(0)`` where
        the platform has it, else ``range(os.cpu_count())``).
    limit : callable, default :func:`cgroup_cpu_limit`
        Returns the CPU quota in CPUs, or ``None``.

    Returns
    -------
    int
        At least 1. A fractional quota is rounded up (1.5 CPUs of quota keep 2 workers busy).

    Examples
    --------
    >>> available_cpus(affinity=lambda: [0, 1, 2, 3], limit=lambda: 1.5)
    2
    >>> available_cpus(affinity=lambda: [0, 1], limit=lambda: None)
    2
    """
    if affinity is None:
        if hasattr(os, "sched_getaffinity"):
            cpus = len(os.sched_getaffinity(0))
        else:  # macOS, Windows
            cpus = os.cpu_count() or 1
    else:
        cpus = len(affinity())
    quota = limit()
    if quota is not None:
        cpus = min(cpus, math.ceil(quota))
    return max(cpus, 1)


def sampler_cores(chains: int = 4) -> int:
    """Return the worker processes for ``pm.sample``: one per usable CPU, one per chain at most.

    Parameters
    ----------
    chains : int, default 4
        Chains the notebook samples.

    Returns
    -------
    int
        ``min(chains, available_cpus())``.

    Examples
    --------
    >>> 1 <= sampler_cores(4) <= 4
    True
    """
    if isinstance(chains, bool) or not isinstance(chains, int):
        raise TypeError(f"chains must be an int, got {type(chains).__name__}.")
    if chains < 1:
        raise ValueError(f"chains must be >= 1, got {chains}.")
    return min(chains, available_cpus())


def versions(packages: Sequence[str] = ("pymc", "arviz", "preliz", "numpy")) -> str:
    r"""Describe the Python and package versions a notebook ran with, one per line.

    Parameters
    ----------
    packages : sequence of str, default ("pymc", "arviz", "preliz", "numpy")
        Distribution names.

    Returns
    -------
    str
        ``"Python 3.11.7\\npymc 5.28.5\\n..."``.

    Examples
    --------
    >>> versions(["numpy"]).splitlines()[0].startswith("Python 3.")
    True
    """
    lines = [f"Python {platform.python_version()}"]
    lines += [f"{name} {importlib.metadata.version(name)}" for name in packages]
    return "\n".join(lines)
