"""The resource measurement, checked on synthetic notebooks whose cost is known by design.

Memory: the kernel touches a 200 MiB array, later a forked child touches a 300 MiB one. Each
phase is bracketed by markers (the kernel prints ``time.monotonic()``, the same clock as the
sampler's), so each allocation is compared with the readings just before it in the same run.
CPU: three processes spin until their own CPU clock shows a given time (kernel 1 s, a joined
worker 2 s, a child still alive at the end 1 s), so the tree used at least 4 s.

PSS, the children's CPU time and pinning exist only on Linux: those tests are skipped elsewhere,
and the fallbacks (RSS, labelled as such; no pinning) are tested here by simulating a platform
without them.
"""

import collections
import json
import os
import statistics
import sys

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from course_utils.tools.usage import (
    MIB,
    MemorySampler,
    can_pin_cpus,
    measure_notebook,
    memory_metric,
    peak_key,
    pinned_cpu_ids,
    process_memory_bytes,
    process_tree,
    run_measured,
    tree_memory_bytes,
)

LINUX_PSS = pytest.mark.skipif(
    sys.platform != "linux",
    reason="PSS (psutil memory_full_info().pss) exists only on Linux; elsewhere memory is RSS",
)
LINUX_CHILD_CPU = pytest.mark.skipif(
    sys.platform != "linux",
    reason="psutil reports the CPU time of waited-for children only on Linux (0 elsewhere)",
)
LINUX_PINNING = pytest.mark.skipif(
    sys.platform != "linux", reason="pinning a kernel needs os.sched_setaffinity (Linux only)"
)

SETUP = """
import json, multiprocessing, os, resource, subprocess, sys, time
import numpy as np

def mark(name):
    print(json.dumps({"mark": name, "t": time.monotonic()}), flush=True)

def spin(seconds):
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass

def hold_in_child(mib, seconds, ready):
    block = np.ones(mib * 2**20 // 8)  # np.ones writes, so every page is touched
    ready.set()
    time.sleep(seconds)
    del block
"""

KERNEL_ARRAY = """
mark("quiet_1")
time.sleep(1.0)
mark("kernel_alloc")
block = np.ones(200 * 2**20 // 8)
mark("kernel_hold")
time.sleep(1.5)
mark("kernel_free")
del block
"""

CHILD_ARRAY = """
time.sleep(1.0)
fork = multiprocessing.get_context("fork")
ready = fork.Event()
# The child holds its block 1 s longer than the window the test reads.
child = fork.Process(target=hold_in_child, args=(300, 2.5, ready))
mark("child_start")
child.start()
ready.wait()
mark("child_hold")
time.sleep(1.5)
mark("child_window_end")
child.join()
"""

CPU_WORK = """
spin(1.0)
worker = multiprocessing.get_context("fork").Process(target=spin, args=(2.0,))
worker.start()
worker.join()
# A child that is still running when the notebook ends: it spins 1 s, reports, then waits
# for its parent (the kernel) to go away.
live = subprocess.Popen([sys.executable, "-c", '''
import os, sys, time
start = time.process_time()
while time.process_time() - start < 1.0:
    pass
print(time.process_time(), flush=True)
parent = os.getppid()
while os.getppid() == parent:
    time.sleep(0.1)
'''], stdout=subprocess.PIPE, text=True)
live_cpu = float(live.stdout.readline())
"""

# Last cell: the kernel's own account (itself plus the children it has waited for) and the
# live child's, an independent measurement of what the tree used.
REPORT = """
me, waited = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({
    "self_cpu": me.ru_utime + me.ru_stime,
    "waited_cpu": waited.ru_utime + waited.ru_stime,
    "live_cpu": live_cpu,
}))
"""


def notebook(*sources):
    return new_notebook(cells=[new_code_cell(s) for s in (SETUP, *sources)])


def stdout_records(nb):
    records = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("name") == "stdout":
                records += [json.loads(line) for line in output["text"].splitlines() if line]
    return records


def marks(nb):
    return {r["mark"]: r["t"] for r in stdout_records(nb) if "mark" in r}


def pss_between(samples, start, end):
    values = [pss for t, pss in samples if start <= t <= end]
    assert len(values) >= 3, f"only {len(values)} readings between the markers"
    return values


@pytest.fixture(scope="module")
def memory_run():
    return run_measured(notebook(KERNEL_ARRAY, CHILD_ARRAY), interval=0.1)


# Tolerance of the memory checks: the page tables of a 200-300 MiB mapping (8 bytes per 4 KiB
# page: 0.6 MiB) plus the interpreter's own allocations while running a marker line; 4 MiB.
TOLERANCE_MIB = 4


@LINUX_PSS
def test_a_touched_200_mib_array_in_the_kernel_adds_200_mib_of_pss(memory_run):
    assert memory_run.memory == "pss"
    m = marks(memory_run.notebook)
    before = statistics.median(
        pss_between(memory_run.samples, m["quiet_1"] + 0.3, m["kernel_alloc"])
    )
    during = statistics.median(
        pss_between(memory_run.samples, m["kernel_hold"] + 0.3, m["kernel_free"])
    )
    assert (during - before) / MIB == pytest.approx(200, abs=TOLERANCE_MIB)


@LINUX_PSS
def test_a_forked_child_s_300_mib_counts_toward_the_peak(memory_run):
    # The sum over the tree must include the child: a reading of the kernel alone would
    # show no increase at all during this phase.
    m = marks(memory_run.notebook)
    before = statistics.median(
        pss_between(memory_run.samples, m["kernel_free"] + 0.5, m["child_start"])
    )
    during = min(pss_between(memory_run.samples, m["child_hold"] + 0.2, m["child_window_end"]))
    extra_mib = (during - before) / MIB
    # At least the 300 MiB the child wrote; at most that plus the copy-on-write copies of the
    # kernel's pages the child touched, which cannot exceed the kernel's own PSS before.
    assert 300 - TOLERANCE_MIB <= extra_mib <= 300 + before / MIB
    assert memory_run.peak_mib >= during / MIB


@LINUX_PSS
def test_the_peak_is_the_largest_reading_and_exceeds_the_state_after_freeing(memory_run):
    readings = [pss for _, pss in memory_run.samples]
    assert memory_run.peak_mib == max(readings) / MIB
    assert memory_run.peak_mib - readings[-1] / MIB >= 300 - TOLERANCE_MIB


@pytest.fixture(scope="module")
def cpu_run():
    return run_measured(notebook(CPU_WORK, REPORT))


@LINUX_CHILD_CPU
def test_cpu_time_counts_the_kernel_a_joined_worker_and_a_live_child(cpu_run):
    # 1 s (kernel) + 2 s (worker, exited and joined) + 1 s (child, alive): at least 4 s.
    assert cpu_run.cpu_s >= 4.0
    report = stdout_records(cpu_run.notebook)[-1]
    # The kernel's own count of what it and its waited-for children used, plus the live
    # child's count: the same quantity, measured from inside. Difference allowed: clock-tick
    # rounding of /proc (10 ms per field and process, 4 fields, at most 3 processes) plus the
    # kernel's reply to the last cell and the child's idle polling after its report (ms).
    inside = report["self_cpu"] + report["waited_cpu"] + report["live_cpu"]
    assert cpu_run.cpu_s == pytest.approx(inside, abs=0.2)


@LINUX_CHILD_CPU
def test_the_kernel_alone_accounts_for_less_than_the_work_done(cpu_run):
    # Negative control: without the workers, the total would be short by about 3 s.
    report = stdout_records(cpu_run.notebook)[-1]
    assert report["self_cpu"] < cpu_run.cpu_s - 2.9


@LINUX_PINNING
def test_a_pinned_kernel_and_its_workers_run_on_the_requested_cpu(tmp_path):
    path = tmp_path / "affinity.ipynb"
    nbformat.write(
        new_notebook(
            cells=[
                new_code_cell(
                    "import multiprocessing, os\n"
                    "fork = multiprocessing.get_context('fork')\n"
                    "q = fork.Queue()\n"
                    "p = fork.Process(target=lambda: q.put(sorted(os.sched_getaffinity(0))))\n"
                    "p.start(); child = q.get(); p.join()\n"
                    "print(sorted(os.sched_getaffinity(0)), child)"
                )
            ]
        ),
        path,
    )
    usage = run_measured(nbformat.read(path, as_version=4), cpus=1)
    printed = usage.notebook.cells[0].outputs[0]["text"].strip()
    first = pinned_cpu_ids(1)[0]
    assert printed == f"[{first}] [{first}]"


def test_the_kernel_is_shut_down_when_the_run_ends(cpu_run):
    try:
        _, alive = psutil.wait_procs([psutil.Process(cpu_run.kernel_pid)], timeout=30)
    except psutil.NoSuchProcess:
        alive = []
    assert not alive


def test_the_readings_see_the_worker_processes(cpu_run):
    # kernel + the joined worker or the live child, each alive for at least a second
    assert cpu_run.max_processes >= 2


AFTER_THE_NOTEBOOK = """
mark("unmeasured")
spin(1.5)
block = np.ones(300 * 2**20 // 8)
time.sleep(1.0)
"""


@pytest.fixture(scope="module")
def partial_run():
    # SETUP and a marker are measured; the last cell (1.5 s of CPU, 300 MiB, 2.5 s) is not.
    return run_measured(notebook('mark("measured")', AFTER_THE_NOTEBOOK), measured_cells=2)


def test_cells_after_the_measured_ones_run_but_do_not_count(partial_run):
    m = marks(partial_run.notebook)
    assert "unmeasured" in m, "the cells after the measured ones still run"
    assert partial_run.samples[-1][0] < m["unmeasured"], "no reading after the measured cells"
    assert partial_run.cpu_s < 1.5, "the unmeasured cell's 1.5 s of CPU is not counted"
    assert partial_run.peak_mib < 300, "the unmeasured cell's 300 MiB are not counted"
    assert 0 < partial_run.kernel_start_s < partial_run.wall_s


def test_measured_to_the_end_the_same_cells_count():
    # Control for the test above: the same notebook measured to its end shows the last cell.
    full = run_measured(notebook('mark("measured")', AFTER_THE_NOTEBOOK))
    assert full.cpu_s >= 1.5
    assert full.samples[-1][0] > marks(full.notebook)["unmeasured"]
    if full.memory == "pss":  # RSS would count the array too, but is not what CI measures
        assert full.peak_mib >= 300


@pytest.mark.parametrize("measured", [-1, 3])
def test_measured_cells_must_be_within_the_notebook(measured):
    with pytest.raises(ValueError, match="measured_cells must be between 0 and the notebook"):
        run_measured(notebook('mark("x")'), measured_cells=measured)


SPIN = (
    "# %%\nimport time\n"
    "start = time.process_time()\n"
    "while time.process_time() - start < 0.5:\n"
    "    pass\n"
)


def test_measure_notebook_reports_the_three_numbers_for_a_py_source(tmp_path):
    path = tmp_path / "tiny.py"
    path.write_text(SPIN)
    result = measure_notebook(path)
    peak = "peak_pss_mib" if sys.platform == "linux" else "peak_rss_mib"
    assert set(result) == {peak, "cpu_s", "wall_s", "max_processes"}
    assert result["cpu_s"] >= 0.5
    assert result["wall_s"] >= 0.5
    assert result[peak] > 10  # a Python kernel alone maps more than that


def test_a_missing_notebook_is_an_error_naming_the_path(tmp_path):
    with pytest.raises(ValueError, match=r"nope\.py is not a notebook file"):
        measure_notebook(tmp_path / "nope.py")


@LINUX_PINNING
def test_bad_cpu_counts_are_rejected_with_the_allowed_range():
    with pytest.raises(ValueError, match=r"cpus must be between 1 and \d+"):
        pinned_cpu_ids(0)
    with pytest.raises(ValueError, match=r"cpus must be between 1 and \d+"):
        pinned_cpu_ids(len(os.sched_getaffinity(0)) + 1)


def test_cpu_counts_of_the_wrong_type_are_rejected_on_every_platform():
    with pytest.raises(TypeError, match="cpus must be an int or None, got float"):
        pinned_cpu_ids(1.0)
    with pytest.raises(TypeError, match="got bool"):
        pinned_cpu_ids(True)


# The fallbacks, simulated on this machine.

#: What psutil's memory_full_info() returns on macOS: no pss field.
MacFullInfo = collections.namedtuple("pfullmem", ["rss", "vms", "pfaults", "pageins", "uss"])


@pytest.fixture()
def no_pss(monkeypatch):
    """A platform without PSS: memory_full_info() lacks ``pss``, as on macOS and Windows."""

    def full_info(self):
        rss, vms = self.memory_info()[:2]
        return MacFullInfo(rss, vms, 0, 0, rss)

    monkeypatch.setattr(psutil.Process, "memory_full_info", full_info)


def test_the_metric_is_pss_on_linux_and_rss_elsewhere():
    assert memory_metric() == ("pss" if sys.platform == "linux" else "rss")
    assert peak_key("rss") == "peak_rss_mib"
    with pytest.raises(ValueError, match="memory metric must be one of"):
        peak_key("uss")


def test_without_pss_the_readings_are_rss_and_say_so(no_pss):
    me = psutil.Process()
    assert memory_metric() == "rss"
    with pytest.raises(ValueError, match=r"reports no PSS \(Linux only\)"):
        process_memory_bytes(me, "pss")
    sampler = MemorySampler(me, 0.05)
    assert sampler.metric == "rss"
    sampler.sample()
    # Read independently of the module: the resident set sizes of this process tree.
    expected = sum(p.memory_info().rss for p in process_tree(me))
    assert sampler.samples[-1][1] == pytest.approx(expected, abs=8 * MIB)
    assert tree_memory_bytes(me, "rss") == pytest.approx(expected, abs=8 * MIB)


@pytest.mark.skipif(sys.platform != "linux", reason="compares PSS with RSS (PSS: Linux only)")
def test_on_linux_the_sampler_reads_pss_not_rss():
    me = psutil.Process()
    sampler = MemorySampler(me, 0.05)
    sampler.sample()
    assert sampler.metric == "pss"
    pss = sum(p.memory_full_info().pss for p in process_tree(me))
    assert sampler.samples[-1][1] == pytest.approx(pss, abs=8 * MIB)


def test_without_pss_a_measured_notebook_reports_rss_never_pss(no_pss, tmp_path):
    path = tmp_path / "tiny.py"
    path.write_text(SPIN)
    result = measure_notebook(path)
    assert set(result) == {"peak_rss_mib", "cpu_s", "wall_s", "max_processes"}
    assert result["peak_rss_mib"] > 10


def test_without_sched_setaffinity_nothing_is_pinned(monkeypatch):
    monkeypatch.delattr(os, "sched_setaffinity", raising=False)
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    assert not can_pin_cpus()
    assert pinned_cpu_ids(None) is None
    with pytest.raises(ValueError, match=r"needs os.sched_setaffinity \(Linux\); use cpus=None"):
        pinned_cpu_ids(1)
