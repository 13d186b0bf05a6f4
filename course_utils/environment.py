"""What the machine offers the notebooks: the CPUs they may use, and the versions in use.

``pm.sample(cores=...)`` starts one worker process per core it is given. ``os.cpu_count()``
counts the machine's CPUs, not those a process may use. Two things limit the latter: the CPU
affinity mask (``taskset``, a cpuset cgroup), and a cgroup CPU quota, which is how JupyterHub
spawners and Kubernetes apply a CPU limit ("1.5 CPUs": 150 ms of CPU time per 100 ms
period). Neither changes ``os.cpu_count()``. The notebooks sample with
``pm.sample(..., chains=4, cores=sampler_cores())``: on a hub that gives each student one CPU
the chains then run one after the other in the kernel process itself, instead of four sampler
processes (100-150 MiB each) that would share one CPU. The draws do not depend on it: PyMC
seeds every chain from ``random_seed``.

Every function takes the file reader as a parameter, so the cgroup logic is tested with fake
files; the defaults read the running system.
"""

from __future__ import annotations

import importlib.metadata
import math
import os
import platform
from collections.abc import Callable, Collection, Iterator, Sequence
from fractions import Fraction
from pathlib import PurePosixPath

__all__ = [
    "available_cpus",
    "cgroup_cpu_limit",
    "parse_cfs_quota",
    "parse_cpu_max",
    "read_text",
    "sampler_cores",
    "versions",
]

CGROUP_ROOT = "/sys/fs/cgroup"
PROC_SELF_CGROUP = "/proc/self/cgroup"
# Where cgroup v1 mounts the cpu controller (it is usually mounted together with cpuacct).
CGROUP_V1_CPU_MOUNTS = ("cpu,cpuacct", "cpu", "cpuacct,cpu")

TextReader = Callable[[str], "str | None"]


def read_text(path: str) -> str | None:
    """Return the text of a file, or None if it does not exist.

    Parameters
    ----------
    path : str
        File to read.

    Returns
    -------
    str or None
        The content, or None when the file (or a folder on its path) is missing.

    Examples
    --------
    >>> read_text("/nonexistent/cpu.max") is None
    True
    """
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read()
    except (FileNotFoundError, NotADirectoryError):
        return None


def parse_cpu_max(text: str, *, path: str = "cpu.max") -> Fraction | None:
    """Parse a cgroup v2 ``cpu.max`` file: the CPU limit in CPUs, or None for no limit.

    Parameters
    ----------
    text : str
        File content, ``"<quota> <period>"`` in microseconds or ``"max <period>"``.
    path : str, default "cpu.max"
        The file's path, for error messages.

    Returns
    -------
    fractions.Fraction or None
        ``quota / period`` (e.g. 3/2 for 1.5 CPUs), or None when the quota is ``max``.

    Raises
    ------
    ValueError
        If the content is not of that form.

    Examples
    --------
    >>> parse_cpu_max("150000 100000")
    Fraction(3, 2)
    >>> parse_cpu_max("max 100000") is None
    True
    """
    fields = text.split()
    if (
        len(fields) != 2
        or not fields[1].isdigit()
        or not (fields[0] == "max" or fields[0].isdigit())
    ):
        raise ValueError(
            f"{path}: expected '<quota> <period>' or 'max <period>' (microseconds), got {text!r}."
        )
    if fields[0] == "max":
        return None
    return _quota_in_cpus(int(fields[0]), int(fields[1]), path)


def parse_cfs_quota(
    quota_text: str, period_text: str, *, path: str = "cpu.cfs_quota_us"
) -> Fraction | None:
    """Parse cgroup v1 ``cpu.cfs_quota_us`` and ``cpu.cfs_period_us``: the limit in CPUs.

    Parameters
    ----------
    quota_text, period_text : str
        Contents of the two files (microseconds; a quota of ``-1`` means no limit).
    path : str, default "cpu.cfs_quota_us"
        The quota file's path, for error messages.

    Returns
    -------
    fractions.Fraction or None
        ``quota / period``, or None when there is no quota.

    Raises
    ------
    ValueError
        If a file does not hold an integer.

    Examples
    --------
    >>> parse_cfs_quota("50000", "100000")
    Fraction(1, 2)
    >>> parse_cfs_quota("-1", "100000") is None
    True
    """
    try:
        quota, period = int(quota_text), int(period_text)
    except ValueError:
        raise ValueError(
            f"{path}: expected integer quota and period (microseconds), got "
            f"{quota_text!r} and {period_text!r}."
        ) from None
    if quota < 0:
        return None
    return _quota_in_cpus(quota, period, path)


def _quota_in_cpus(quota: int, period: int, path: str) -> Fraction:
    if quota <= 0 or period <= 0:
        raise ValueError(f"{path}: quota and period must be positive, got {quota} and {period}.")
    return Fraction(quota, period)


def _self_and_ancestors(cgroup_path: str) -> Iterator[PurePosixPath]:
    """Yield ``/a/b``, ``/a``, ``/`` for ``/a/b`` (a limit on any of them applies)."""
    path = PurePosixPath("/") / cgroup_path.lstrip("/")
    yield path
    yield from path.parents


def cgroup_cpu_limit(
    read: TextReader = read_text,
    *,
    root: str = CGROUP_ROOT,
    proc_self_cgroup: str = PROC_SELF_CGROUP,
) -> Fraction | None:
    """Return the smallest CPU quota of this process's cgroups (v2 and v1), in CPUs.

    The process's cgroups are read from ``/proc/self/cgroup``; the quota of each of them and
    of their ancestors up to the root applies, so the smallest one found is returned. In a
    container with its own cgroup namespace the path is ``/`` and the container's own
    limit is at the root, ``/sys/fs/cgroup/cpu.max``.

    Parameters
    ----------
    read : callable, default :func:`read_text`
        ``read(path) -> str | None``, None for a missing file.
    root : str, default "/sys/fs/cgroup"
        Mount point of the cgroup file system.
    proc_self_cgroup : str, default "/proc/self/cgroup"
        The file listing this process's cgroups.

    Returns
    -------
    fractions.Fraction or None
        The limit in CPUs, or None when no quota is set (or no cgroup information exists).

    Examples
    --------
    >>> files = {
    ...     "/proc/self/cgroup": "0::/system.slice/jupyter-ada-singleuser.service",
    ...     "/sys/fs/cgroup/system.slice/jupyter-ada-singleuser.service/cpu.max": "max 100000",
    ...     "/sys/fs/cgroup/system.slice/cpu.max": "200000 100000",
    ... }
    >>> cgroup_cpu_limit(files.get)
    Fraction(2, 1)
    """
    membership = read(proc_self_cgroup)
    lines = membership.splitlines() if membership is not None else ["0::/"]
    limits: list[Fraction] = []
    for line in lines:
        if not line.strip():
            continue
        hierarchy, _, rest = line.partition(":")
        controllers, _, cgroup_path = rest.partition(":")
        if hierarchy == "0" and controllers == "":  # cgroup v2
            for folder in _self_and_ancestors(cgroup_path):
                path = str(PurePosixPath(root) / folder.relative_to("/") / "cpu.max")
                text = read(path)
                limit = parse_cpu_max(text, path=path) if text is not None else None
                if limit is not None:
                    limits.append(limit)
        elif "cpu" in controllers.split(","):  # cgroup v1
            for mount in CGROUP_V1_CPU_MOUNTS:
                for folder in _self_and_ancestors(cgroup_path):
                    base = str(PurePosixPath(root) / mount / folder.relative_to("/"))
                    quota, period = (
                        read(f"{base}/cpu.cfs_quota_us"),
                        read(f"{base}/cpu.cfs_period_us"),
                    )
                    if quota is None or period is None:
                        continue
                    limit = parse_cfs_quota(quota, period, path=f"{base}/cpu.cfs_quota_us")
                    if limit is not None:
                        limits.append(limit)
    return min(limits) if limits else None


def _affinity() -> Collection[int]:
    if hasattr(os, "sched_getaffinity"):
        return os.sched_getaffinity(0)
    return range(os.cpu_count() or 1)


def available_cpus(
    *,
    affinity: Collection[int] | None = None,
    read: TextReader = read_text,
    root: str = CGROUP_ROOT,
    proc_self_cgroup: str = PROC_SELF_CGROUP,
) -> int:
    """Return how many CPUs this process may use: at least 1.

    The CPUs of the affinity mask (``os.sched_getaffinity(0)``, or ``os.cpu_count()`` where
    there is none), further limited by the cgroup CPU quota rounded up: a quota of 1.5 CPUs
    keeps two processes busy 75% of the time each, which is more work done than one process
    with a full CPU.

    Parameters
    ----------
    affinity : collection of int, optional
        CPU ids the process may run on (default: asked from the operating system).
    read : callable, default :func:`read_text`
        ``read(path) -> str | None`` used for the cgroup files.
    root, proc_self_cgroup : str
        See :func:`cgroup_cpu_limit`.

    Returns
    -------
    int
        ``max(1, min(len(affinity), ceil(quota)))``, or ``len(affinity)`` without a quota.

    Raises
    ------
    TypeError
        If ``affinity`` is not a collection of CPU ids.
    ValueError
        If ``affinity`` is empty, or a cgroup file cannot be parsed.

    Examples
    --------
    >>> available_cpus(affinity={0, 1, 2, 3}, read=lambda path: None)
    4
    >>> files = {"/proc/self/cgroup": "0::/", "/sys/fs/cgroup/cpu.max": "150000 100000"}
    >>> available_cpus(affinity={0, 1, 2, 3}, read=files.get)
    2
    """
    cpus = _affinity() if affinity is None else affinity
    if isinstance(cpus, (str, bytes)) or not isinstance(cpus, Collection):
        raise TypeError(
            f"affinity must be a collection of CPU ids such as {{0, 1}}, got {type(cpus).__name__}."
        )
    if len(cpus) == 0:
        raise ValueError("affinity is empty: a process can always run on at least one CPU.")
    limit = cgroup_cpu_limit(read, root=root, proc_self_cgroup=proc_self_cgroup)
    count = len(cpus) if limit is None else min(len(cpus), math.ceil(limit))
    return max(1, count)


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
