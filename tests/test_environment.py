import os
import subprocess
import sys
from fractions import Fraction

import pytest

from course_utils import environment
from course_utils.environment import (
    available_cpus,
    cgroup_cpu_limit,
    parse_cfs_quota,
    parse_cpu_max,
)

FOUR = {0, 1, 2, 3}


def reader(files):
    """A fake file system: path -> content; missing paths read as None."""
    return files.get


def test_without_cgroup_files_every_cpu_of_the_affinity_mask_is_available():
    assert available_cpus(affinity=FOUR, read=reader({})) == 4
    assert available_cpus(affinity={5}, read=reader({})) == 1


def test_a_container_quota_of_one_and_a_half_cpus_allows_two_processes():
    files = {"/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/cpu.max": "150000 100000\n"}
    assert cgroup_cpu_limit(reader(files)) == Fraction(3, 2)
    assert available_cpus(affinity=FOUR, read=reader(files)) == 2


def test_a_quota_of_half_a_cpu_still_allows_one_process():
    files = {"/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/cpu.max": "50000 100000\n"}
    assert available_cpus(affinity=FOUR, read=reader(files)) == 1


def test_a_quota_of_max_means_no_limit():
    files = {"/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/cpu.max": "max 100000\n"}
    assert cgroup_cpu_limit(reader(files)) is None
    assert available_cpus(affinity=FOUR, read=reader(files)) == 4


def test_a_quota_above_the_affinity_mask_does_not_add_cpus():
    files = {"/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/cpu.max": "800000 100000\n"}
    assert available_cpus(affinity={0, 1}, read=reader(files)) == 2


def test_a_systemd_cpu_quota_on_the_users_service_limits_the_cpus():
    # TLJH's SystemdSpawner runs each server as a unit jupyter-<user>-singleuser with
    # CPUQuota=100% for limits.cpu 1; systemd writes it to the unit's cpu.max. No cgroup
    # namespace: /proc/self/cgroup names the unit's cgroup below the root.
    files = {
        "/proc/self/cgroup": "0::/system.slice/jupyter-ada-singleuser.service\n",
        "/sys/fs/cgroup/system.slice/jupyter-ada-singleuser.service/cpu.max": "100000 100000\n",
    }
    assert available_cpus(affinity=FOUR, read=reader(files)) == 1


def test_the_quota_of_an_ancestor_cgroup_applies_to_the_process():
    # The process's own cgroup has no limit, the slice above it has one CPU.
    files = {
        "/proc/self/cgroup": "0::/system.slice/jupyter-ada-singleuser.service\n",
        "/sys/fs/cgroup/system.slice/jupyter-ada-singleuser.service/cpu.max": "max 100000\n",
        "/sys/fs/cgroup/system.slice/cpu.max": "100000 100000\n",
    }
    assert available_cpus(affinity=FOUR, read=reader(files)) == 1


def test_the_smallest_quota_along_the_path_wins():
    files = {
        "/proc/self/cgroup": "0::/a/b\n",
        "/sys/fs/cgroup/a/b/cpu.max": "300000 100000\n",
        "/sys/fs/cgroup/a/cpu.max": "200000 100000\n",
        "/sys/fs/cgroup/cpu.max": "400000 100000\n",
    }
    assert cgroup_cpu_limit(reader(files)) == 2


def test_the_quota_of_a_cgroup_the_process_is_not_in_is_ignored():
    # Negative control: the same limit file under a sibling cgroup must not count.
    files = {
        "/proc/self/cgroup": "0::/system.slice/jupyter-ada-singleuser.service\n",
        "/sys/fs/cgroup/system.slice/jupyter-bob-singleuser.service/cpu.max": "100000 100000\n",
    }
    assert cgroup_cpu_limit(reader(files)) is None
    assert available_cpus(affinity=FOUR, read=reader(files)) == 4


def test_cgroup_v1_cfs_quota_limits_the_cpus():
    files = {
        "/proc/self/cgroup": "4:memory:/x\n3:cpu,cpuacct:/\n",
        "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "200000\n",
        "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
    }
    assert available_cpus(affinity=FOUR, read=reader(files)) == 2


def test_cgroup_v1_quota_of_minus_one_means_no_limit():
    files = {
        "/proc/self/cgroup": "1:cpu:/\n",
        "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n",
        "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
    }
    assert available_cpus(affinity=FOUR, read=reader(files)) == 4


def test_cgroup_v1_quota_of_a_nested_cgroup_is_found_under_its_path():
    files = {
        "/proc/self/cgroup": "3:cpuacct,cpu:/kubepods/pod1/c1\n",
        "/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/c1/cpu.cfs_quota_us": "50000\n",
        "/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/c1/cpu.cfs_period_us": "100000\n",
    }
    assert cgroup_cpu_limit(reader(files)) == Fraction(1, 2)


def test_a_hybrid_system_takes_the_smaller_of_the_v1_and_v2_quotas():
    files = {
        "/proc/self/cgroup": "1:cpu,cpuacct:/\n0::/\n",
        "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "300000",
        "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000",
        "/sys/fs/cgroup/cpu.max": "100000 100000",
    }
    assert available_cpus(affinity=FOUR, read=reader(files)) == 1


def test_a_malformed_cpu_max_file_is_an_error_naming_the_file():
    files = {"/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/cpu.max": "lots\n"}
    with pytest.raises(ValueError, match=r"/sys/fs/cgroup/cpu.max: expected '<quota> <period>'"):
        available_cpus(affinity=FOUR, read=reader(files))


def test_parsers_reject_non_positive_quota_and_period():
    with pytest.raises(ValueError, match="must be positive"):
        parse_cpu_max("100000 0")
    with pytest.raises(ValueError, match="expected integer quota and period"):
        parse_cfs_quota("many", "100000")


def test_an_empty_affinity_mask_is_rejected():
    with pytest.raises(ValueError, match="affinity is empty"):
        available_cpus(affinity=set(), read=reader({}))


def test_a_cpu_count_instead_of_a_set_of_cpus_is_a_type_error():
    with pytest.raises(TypeError, match=r"collection of CPU ids such as \{0, 1\}, got int"):
        available_cpus(affinity=4, read=reader({}))


def test_on_this_machine_the_answer_is_between_one_and_the_affinity_mask():
    mask = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count())
    assert 1 <= available_cpus() <= len(mask)


def test_without_an_affinity_mask_every_cpu_of_the_machine_is_available(monkeypatch):
    # macOS and Windows have no os.sched_getaffinity: simulated here by removing it.
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert available_cpus(read=reader({})) == 3
    files = {"/proc/self/cgroup": "0::/\n", "/sys/fs/cgroup/cpu.max": "150000 100000\n"}
    assert available_cpus(read=reader(files)) == 2, "a quota still limits the count"
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # the count can be unknown
    assert available_cpus(read=reader({})) == 1


@pytest.mark.skipif(
    sys.platform != "linux", reason="pinning a process needs os.sched_setaffinity (Linux only)"
)
def test_a_process_pinned_to_one_cpu_sees_one_cpu():
    first = min(os.sched_getaffinity(0))
    code = (
        f"import os; os.sched_setaffinity(0, {{{first}}}); "
        "from course_utils.environment import available_cpus; print(available_cpus())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "1"


def test_sampler_cores_never_exceeds_the_chains(monkeypatch):
    monkeypatch.setattr(environment, "available_cpus", lambda: 16)
    assert environment.sampler_cores(4) == 4
    monkeypatch.setattr(environment, "available_cpus", lambda: 1)
    assert environment.sampler_cores(4) == 1
    with pytest.raises(ValueError, match="chains must be >= 1"):
        environment.sampler_cores(0)
    with pytest.raises(TypeError, match="chains must be an int"):
        environment.sampler_cores(2.0)


def test_versions_name_python_and_each_package():
    import arviz
    import numpy
    import preliz
    import pymc

    # The truth from the interpreter and from the imported packages themselves, not from the
    # installed distributions' metadata that versions() reads.
    python = "{}.{}.{}".format(*sys.version_info[:3])
    assert environment.versions(["numpy", "pymc"]).splitlines() == [
        f"Python {python}",
        f"numpy {numpy.__version__}",
        f"pymc {pymc.__version__}",
    ]
    assert environment.versions().splitlines() == [
        f"Python {python}",
        f"pymc {pymc.__version__}",
        f"arviz {arviz.__version__}",
        f"preliz {preliz.__version__}",
        f"numpy {numpy.__version__}",
    ]
