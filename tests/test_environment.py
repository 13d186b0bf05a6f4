import re

import pytest

from course_utils import environment
from course_utils.environment import CGROUP_V1_PERIOD, CGROUP_V1_QUOTA, CGROUP_V2_MAX


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({CGROUP_V2_MAX: "200000 100000"}, 2.0),
        ({CGROUP_V2_MAX: "50000 100000"}, 0.5),
        ({CGROUP_V2_MAX: "max 100000"}, None),
        ({CGROUP_V1_QUOTA: "150000", CGROUP_V1_PERIOD: "100000"}, 1.5),
        ({CGROUP_V1_QUOTA: "-1", CGROUP_V1_PERIOD: "100000"}, None),
        ({}, None),
    ],
)
def test_cgroup_quota_is_read_from_v2_or_v1_files(files, expected):
    assert environment.cgroup_cpu_limit(files.get) == expected


@pytest.mark.parametrize(
    ("cpus", "quota", "expected"),
    [(4, None, 4), (4, 1.0, 1), (4, 1.5, 2), (2, 8.0, 2), (1, 0.25, 1)],
)
def test_available_cpus_is_the_affinity_capped_by_the_quota(cpus, quota, expected):
    got = environment.available_cpus(affinity=lambda: range(cpus), limit=lambda: quota)
    assert got == expected


def test_available_cpus_of_this_process_is_its_affinity():
    import os

    expected = len(os.sched_getaffinity(0))
    quota = environment.cgroup_cpu_limit()
    if quota is not None:
        expected = min(expected, -(-quota // 1))
    assert environment.available_cpus() == expected


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
    import importlib.metadata

    lines = environment.versions(["pymc", "numpy"]).splitlines()
    assert re.fullmatch(r"Python 3\.\d+\.\d+", lines[0])
    assert lines[1:] == [
        f"pymc {importlib.metadata.version('pymc')}",
        f"numpy {importlib.metadata.version('numpy')}",
    ]
