"""What one student costs a server: memory and CPU time of running one notebook.

:func:`measure_notebook` executes a notebook top to bottom in a fresh kernel (nbclient), as a
student does, and measures the kernel process together with every process it starts (PyMC's
sampler workers, the compiler PyTensor calls):

- **peak PSS**: every ``interval`` seconds, the proportional set size of the kernel and all its
  descendants is summed, and the largest sum is kept. PSS divides each shared page between
  the processes that map it, so the sum over a process tree counts forked workers' shared
  pages once: it is the memory the tree adds to the machine. A peak shorter than the
  interval can be missed. PSS exists only on Linux; elsewhere the resident set size (RSS) is
  summed instead, which counts a shared page once per process that maps it (an upper bound),
  and every result names its metric (:func:`memory_metric`, ``peak_rss_mib``), so an RSS
  number is never presented as PSS.
- **CPU seconds**: user + system time of the kernel and its descendants, read once, right
  after the last cell. Every live process in the tree contributes its own time plus that of
  the children it has already waited for (``children_user``/``children_system``, the
  ``cutime``/``cstime`` of ``/proc/<pid>/stat``). A sampler worker that has exited and been
  joined is therefore counted in its parent's total, a live or not yet reaped (zombie) process
  in its own. Processes that leave the tree before they exit (daemonised, re-parented) are not
  counted; PyMC's workers and PyTensor's compiler calls are waited for by the kernel. Only
  Linux reports the waited-for children's time: psutil gives 0 for it on macOS and Windows,
  where the time of workers that have already exited is missing from the total.
- **wall seconds**: from the kernel's start to the end of the last cell.

``measured_cells=n`` measures only the first ``n`` cells: the memory readings, the CPU time
and the wall time stop after them, and the remaining cells still run (``course bench``
appends cells that inspect the notebook's fits and must not count toward its cost). This is
the one measured-execution engine of the course: ``course bench`` runs it too.

With ``cpus=n`` the kernel is started on the first ``n`` CPUs of this process's affinity mask
(set before the kernel's interpreter starts, so all its threads and all the processes it
starts inherit it), which simulates a server that gives each student ``n`` CPUs. Pinning needs
``os.sched_setaffinity`` (Linux, :func:`can_pin_cpus`).
"""

from __future__ import annotations

__all__ = [
    "MEMORY_METRICS",
    "MIB",
    "MemorySampler",
    "NotebookUsage",
    "can_pin_cpus",
    "idle_server_mib",
    "kernel_manager_class",
    "kernel_process",
    "measure_notebook",
    "memory_metric",
    "peak_key",
    "pinned_cpu_ids",
    "process_memory_bytes",
    "process_tree",
    "run_measured",
    "tree_cpu_seconds",
    "tree_memory_bytes",
]

import os
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat
import psutil
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

MIB = 2**20
#: The memory metrics a reading can be: proportional set size (Linux) or resident set size.
MEMORY_METRICS = ("pss", "rss")

# Run by the kernel's own command line when it is pinned: set the affinity mask, then become
# the kernel (exec keeps the process id, so the kernel manager's pid is the kernel's).
_PIN_AND_EXEC = (
    "import os, sys; "
    "os.sched_setaffinity(0, {int(c) for c in sys.argv[1].split(',')}); "
    "os.execvp(sys.argv[2], sys.argv[2:])"
)


def process_tree(root: psutil.Process) -> list[psutil.Process]:
    """Return ``root`` and all its descendants that exist now.

    Parameters
    ----------
    root : psutil.Process
        The top process (the kernel).

    Returns
    -------
    list of psutil.Process
        ``root`` first, then its descendants (zombies included).

    Examples
    --------
    >>> me = psutil.Process()
    >>> process_tree(me)[0].pid == os.getpid()
    True
    """
    try:
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def memory_metric() -> str:
    """Return the memory metric this platform can read: ``"pss"`` on Linux, else ``"rss"``.

    psutil reports the proportional set size (``memory_full_info().pss``) only on Linux.
    Elsewhere the resident set size (``memory_info().rss``) is the fallback; summed over a
    process tree it counts pages shared with forked workers once per process, so it overstates
    what the tree adds to the machine.

    Returns
    -------
    str
        ``"pss"`` if this process's ``memory_full_info()`` has a ``pss`` field, else ``"rss"``.

    Examples
    --------
    >>> memory_metric() in MEMORY_METRICS
    True
    """
    try:
        info = psutil.Process().memory_full_info()
    except psutil.AccessDenied:  # some platforms restrict the full reading
        return "rss"
    return "pss" if hasattr(info, "pss") else "rss"


def peak_key(metric: str) -> str:
    """Return the name a peak of ``metric`` is reported under, in MiB.

    Examples
    --------
    >>> peak_key("pss"), peak_key("rss")
    ('peak_pss_mib', 'peak_rss_mib')
    """
    if metric not in MEMORY_METRICS:
        raise ValueError(f"memory metric must be one of {MEMORY_METRICS}, got {metric!r}.")
    return f"peak_{metric}_mib"


def process_memory_bytes(proc: psutil.Process, metric: str) -> int:
    """Return one process's memory in bytes, as PSS or RSS.

    Parameters
    ----------
    proc : psutil.Process
        The process.
    metric : {"pss", "rss"}
        What to read (see :func:`memory_metric`).

    Returns
    -------
    int
        ``memory_full_info().pss`` or ``memory_info().rss``.

    Raises
    ------
    ValueError
        For an unknown metric, or ``"pss"`` where the platform has no PSS.

    Examples
    --------
    >>> process_memory_bytes(psutil.Process(), "rss") > 0
    True
    """
    if metric == "rss":
        return int(proc.memory_info().rss)
    if metric != "pss":
        raise ValueError(f"memory metric must be one of {MEMORY_METRICS}, got {metric!r}.")
    pss = getattr(proc.memory_full_info(), "pss", None)
    if pss is None:
        raise ValueError("this platform reports no PSS (Linux only): measure 'rss' instead.")
    return int(pss)


def tree_memory_bytes(root: psutil.Process, metric: str) -> int:
    """Return the summed PSS or RSS of a process and its descendants, in bytes.

    Parameters
    ----------
    root : psutil.Process
        The top process.
    metric : {"pss", "rss"}
        What to sum (see :func:`memory_metric`).

    Returns
    -------
    int
        Sum of :func:`process_memory_bytes`; processes that exit while being read count 0.

    Examples
    --------
    >>> tree_memory_bytes(psutil.Process(), memory_metric()) > 0
    True
    """
    total = 0
    for proc in process_tree(root):
        try:
            total += process_memory_bytes(proc, metric)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue  # gone: it holds no memory any more
    return total


def tree_cpu_seconds(root: psutil.Process) -> float:
    """Return the CPU time (user + system) used so far by a process tree, in seconds.

    Each live process counts its own time and that of the children it has waited for; the
    children still alive (or exited but not yet waited for) count themselves. So every process
    that ever ran in the tree is counted once, provided each one was or will be waited for by
    its parent within the tree.

    Parameters
    ----------
    root : psutil.Process
        The top process.

    Returns
    -------
    float
        Seconds of CPU time (resolution: one clock tick per field and process, 10 ms on Linux).

    Examples
    --------
    >>> tree_cpu_seconds(psutil.Process()) > 0
    True
    """
    total = 0.0
    for proc in process_tree(root):
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            # Exited and reaped between listing and reading: its time is now in its parent's
            # children_* fields, which were or will be read with the parent.
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


@dataclass
class MemorySampler:
    """Background thread summing the memory of a process tree every ``interval`` seconds.

    Call :meth:`start`, then :meth:`stop`; the readings are in :attr:`samples` and the peak
    is :attr:`peak_mib`, all in :attr:`metric` (PSS on Linux, RSS elsewhere).
    """

    root: psutil.Process
    interval: float
    metric: str = field(default_factory=memory_metric)
    samples: list[tuple[float, int]] = field(default_factory=list)
    max_processes: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        """Read the tree's summed memory now."""
        self.max_processes = max(self.max_processes, len(process_tree(self.root)))
        self.samples.append((time.monotonic(), tree_memory_bytes(self.root, self.metric)))

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.sample()
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def start(self) -> None:
        """Start reading every ``interval`` seconds, in a background thread."""
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling, after one last reading."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()  # one last reading at the end of the notebook

    @property
    def peak_mib(self) -> float:
        """The largest summed reading (of :attr:`metric`), in MiB."""
        return max(value for _, value in self.samples) / MIB


class _PinnedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel starts with the CPU affinity mask ``cpu_ids``."""

    cpu_ids: tuple[int, ...] = ()

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        return [sys.executable, "-c", _PIN_AND_EXEC, ",".join(map(str, self.cpu_ids)), *cmd]


def can_pin_cpus() -> bool:
    """Return whether a kernel can be pinned to CPUs here (``os.sched_setaffinity``: Linux).

    Examples
    --------
    >>> can_pin_cpus() == hasattr(os, "sched_setaffinity")
    True
    """
    return hasattr(os, "sched_setaffinity") and hasattr(os, "sched_getaffinity")


def pinned_cpu_ids(cpus: int | None) -> tuple[int, ...] | None:
    """Choose the CPUs a kernel is pinned to: the first ``cpus`` of this process's mask.

    Parameters
    ----------
    cpus : int or None
        How many CPUs; None for no pinning.

    Returns
    -------
    tuple of int or None
        Sorted CPU ids, or None.

    Raises
    ------
    TypeError
        If ``cpus`` is not an int (or is a bool).
    ValueError
        If ``cpus`` is below 1 or above the CPUs this process may use, or pinning is not
        supported on this platform.

    Examples
    --------
    >>> pinned_cpu_ids(None) is None
    True
    >>> len(pinned_cpu_ids(1)) if can_pin_cpus() else 1
    1
    """
    if cpus is None:
        return None
    if isinstance(cpus, bool) or not isinstance(cpus, int):
        raise TypeError(f"cpus must be an int or None, got {type(cpus).__name__}.")
    if not can_pin_cpus():
        raise ValueError(
            "pinning a kernel to CPUs needs os.sched_setaffinity (Linux); use cpus=None."
        )
    mask = sorted(os.sched_getaffinity(0))
    if not 1 <= cpus <= len(mask):
        raise ValueError(
            f"cpus must be between 1 and {len(mask)} (the CPUs this process may use), got {cpus}."
        )
    return tuple(mask[:cpus])


def kernel_manager_class(cpu_ids: tuple[int, ...] | None) -> type[AsyncKernelManager]:
    """Return the kernel manager class that starts kernels on ``cpu_ids`` (all CPUs if None).

    Examples
    --------
    >>> kernel_manager_class(None) is AsyncKernelManager
    True
    >>> kernel_manager_class((0,)).cpu_ids
    (0,)
    """
    if cpu_ids is None:
        return AsyncKernelManager
    return type("PinnedKernelManager", (_PinnedKernelManager,), {"cpu_ids": tuple(cpu_ids)})


def kernel_process(client: NotebookClient) -> psutil.Process:
    """Return the process of a started client's kernel (for :class:`MemorySampler`)."""
    provisioner = client.km.provisioner if client.km is not None else None
    pid = getattr(provisioner, "pid", None)
    if pid is None:
        raise RuntimeError("the client's kernel is not running: start it before measuring it")
    return psutil.Process(pid)


@dataclass
class NotebookUsage:
    """Resources used by one notebook run (see the module docstring for the definitions).

    Attributes
    ----------
    peak_mib, cpu_s, wall_s : float
        Peak summed memory (MiB, of ``memory``), CPU seconds, wall seconds.
    memory : str
        The metric of ``peak_mib`` and ``samples``: ``"pss"`` (Linux) or ``"rss"``.
    samples : list of (float, int)
        ``(time.monotonic(), bytes)`` of every reading.
    max_processes : int
        Largest number of processes seen in the tree at one reading.
    kernel_pid : int
        Process id the kernel had (it is shut down when the run ends).
    notebook : nbformat.NotebookNode
        The executed notebook, with its outputs.
    kernel_start_s : float
        Seconds from the start of the run until the kernel was ready (part of ``wall_s``).
    """

    peak_mib: float
    memory: str
    cpu_s: float
    wall_s: float
    samples: list[tuple[float, int]]
    max_processes: int
    kernel_pid: int
    notebook: nbformat.NotebookNode
    kernel_start_s: float


def run_measured(
    nb: nbformat.NotebookNode,
    *,
    cpus: int | None = None,
    interval: float = 0.2,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    kernel_name: str = "python3",
    timeout: int = 1800,
    measured_cells: int | None = None,
    record_timing: bool = False,
) -> NotebookUsage:
    """Execute a notebook in a fresh kernel and measure it; see :func:`measure_notebook`.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook (executed in place).
    cpus : int or None, default None
        Pin the kernel (and so everything it starts) to this many CPUs.
    interval : float, default 0.2
        Seconds between memory readings.
    cwd : pathlib.Path, optional
        Working folder of the kernel (default: the current folder).
    env : mapping, optional
        Environment of the kernel (default: ``os.environ``).
    kernel_name : str, default "python3"
        Kernel spec to start.
    timeout : int, default 1800
        Seconds a cell may run.
    measured_cells : int, optional
        Measure only the first ``measured_cells`` cells (default: all); the rest still run.
    record_timing : bool, default False
        Record each cell's execution timestamps in its metadata (nbclient).

    Returns
    -------
    NotebookUsage
        The measurements and the executed notebook.

    Raises
    ------
    ValueError
        For a non-positive ``interval``, a bad ``cpus`` (see :func:`pinned_cpu_ids`) or a
        ``measured_cells`` outside ``0..len(nb.cells)``.
    RuntimeError
        If the kernel did not get the requested CPU mask.
    nbclient.exceptions.CellExecutionError
        If a cell fails: the run is not representative.
    """
    if not interval > 0:
        raise ValueError(f"interval must be a positive number of seconds, got {interval!r}.")
    measured = len(nb.cells) if measured_cells is None else measured_cells
    if not 0 <= measured <= len(nb.cells):
        raise ValueError(
            f"measured_cells must be between 0 and the notebook's {len(nb.cells)} cells, "
            f"got {measured_cells!r}."
        )
    cpu_ids = pinned_cpu_ids(cpus)
    manager = kernel_manager_class(cpu_ids)
    # The client creates (and so owns, and shuts down at the end) the kernel manager.
    client = NotebookClient(
        nb,
        kernel_manager_class=manager,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(cwd or Path.cwd())}},
        record_timing=record_timing,
    )
    start = time.monotonic()
    with client.setup_kernel(env=dict(os.environ if env is None else env)):
        kernel_start = time.monotonic() - start
        kernel = kernel_process(client)
        if cpu_ids is not None and tuple(sorted(kernel.cpu_affinity())) != cpu_ids:
            raise RuntimeError(
                f"the kernel runs on CPUs {kernel.cpu_affinity()}, not the requested {cpu_ids}."
            )
        sampler = MemorySampler(kernel, interval)
        sampler.start()
        try:
            for index, cell in enumerate(nb.cells[:measured]):
                client.execute_cell(cell, index)
        finally:
            sampler.stop()
        wall = time.monotonic() - start
        cpu = tree_cpu_seconds(kernel)
        for index, cell in enumerate(nb.cells[measured:], start=measured):
            client.execute_cell(cell, index)  # run, not measured
    return NotebookUsage(
        peak_mib=sampler.peak_mib,
        memory=sampler.metric,
        cpu_s=cpu,
        wall_s=wall,
        samples=sampler.samples,
        max_processes=sampler.max_processes,
        kernel_pid=kernel.pid,
        notebook=nb,
        kernel_start_s=kernel_start,
    )


def measure_notebook(
    path: Path | str,
    cpus: int | None = None,
    *,
    interval: float = 0.2,
    env: Mapping[str, str] | None = None,
    kernel_name: str = "python3",
    timeout: int = 1800,
) -> dict[str, float]:
    """Run a notebook top to bottom in a fresh kernel; return its peak memory and CPU time.

    Parameters
    ----------
    path : pathlib.Path or str
        A notebook: ``.ipynb``, or a Jupytext source such as a py:percent ``.py`` file. It is
        run in its own folder and nothing is written back.
    cpus : int or None, default None
        Pin the kernel (and its sampler workers) to this many CPUs; None runs it on all the
        CPUs this process may use.
    interval : float, default 0.2
        Seconds between memory readings.
    env : mapping, optional
        Environment of the kernel (default: ``os.environ``), e.g. with ``COURSE_DATA_DIR``.
    kernel_name : str, default "python3"
        Kernel spec to start.
    timeout : int, default 1800
        Seconds a cell may run.

    Returns
    -------
    dict of str to float
        ``peak_pss_mib`` (MiB; ``peak_rss_mib`` where there is no PSS, see
        :func:`memory_metric`), ``cpu_s`` and ``wall_s`` (seconds), and ``max_processes``.

    Raises
    ------
    ValueError
        If ``path`` is not a file, or for bad ``cpus`` or ``interval``.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(
            f"{path} is not a notebook file: give the path of a .ipynb or .py notebook."
        )
    usage = run_measured(
        jupytext.read(path),
        cpus=cpus,
        interval=interval,
        cwd=path.resolve().parent,
        env=env,
        kernel_name=kernel_name,
        timeout=timeout,
    )
    return {
        peak_key(usage.memory): usage.peak_mib,
        "cpu_s": usage.cpu_s,
        "wall_s": usage.wall_s,
        "max_processes": float(usage.max_processes),
    }


def idle_server_mib(metric: str, *, timeout: float = 120) -> float:
    """Start a Jupyter server with JupyterLab on a free local port; return its memory in MiB.

    This is what every student's server costs before a notebook runs. The server is
    started with no token and no browser, read once it answers, and stopped.

    Parameters
    ----------
    metric : {"pss", "rss"}
        What to read: the metric of the benchmark it is reported with (see
        :func:`memory_metric`).
    timeout : float, default 120
        Seconds allowed for the server to answer.

    Returns
    -------
    float
        Summed PSS or RSS of the server and its children, MiB.

    Raises
    ------
    RuntimeError
        If the server does not answer within ``timeout``.
    """
    import socket
    import subprocess
    import tempfile
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as root:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ServerApp.allow_root=True",
                f"--ServerApp.port={port}",
                "--ServerApp.ip=127.0.0.1",
                "--IdentityProvider.token=",
                f"--ServerApp.root_dir={root}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    opener.open(f"http://127.0.0.1:{port}/lab", timeout=5).close()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("the Jupyter server did not start") from None
                    time.sleep(0.5)
            time.sleep(1.0)  # let it settle after serving the page
            return tree_memory_bytes(psutil.Process(server.pid), metric) / MIB
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
