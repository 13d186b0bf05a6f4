"""Numeric profiles: make this machine compute like another kind of x86-64 CPU.

A Markov chain is bit-reproducible only on the same numeric code path. Three things choose
CPU-specific code: NumPy's SIMD dispatch, OpenBLAS's kernel, and PyTensor's C code (compiled
with the machine's own ``-march``). A profile sets all three for the kernels that run the
notebooks, so that one machine can produce another CPU's chains: the test suite uses this to
show that another machine's valid outputs pass the validation.

- ``x86-64-v3``: an AVX2 CPU without AVX-512 (e.g. on an AVX-512 machine);
- ``x86-64-v2``: an SSE4.2 CPU without AVX (e.g. on an AVX2 machine).

No profile makes x86-64 compute like Apple silicon or Windows; other sampler seeds stand in
for those.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["PROFILES", "native_profile", "other_profile", "profile_env"]

#: Environment of each profile, without the PyTensor compile folder (see :func:`profile_env`).
PROFILES: dict[str, dict[str, str]] = {
    "x86-64-v3": {
        "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
        "OPENBLAS_CORETYPE": "Haswell",
        "PYTENSOR_FLAGS": "gcc__cxxflags=-march=x86-64-v3",
    },
    "x86-64-v2": {
        "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
        "OPENBLAS_CORETYPE": "Nehalem",
        "PYTENSOR_FLAGS": "gcc__cxxflags=-march=x86-64-v2",
    },
}


def native_profile() -> str | None:
    """Return the profile closest to this machine's own code path (``None`` off x86-64).

    Examples
    --------
    >>> native_profile() in {None, "x86-64-v2", "x86-64-v3", "x86-64-v4"}
    True
    """
    import platform

    from numpy._core._multiarray_umath import __cpu_features__ as features

    if platform.machine().lower() not in {"x86_64", "amd64"}:
        return None
    if features.get("AVX512F"):
        return "x86-64-v4"
    return "x86-64-v3" if features.get("AVX2") else "x86-64-v2"


def other_profile() -> str | None:
    """Return a profile whose code path differs from this machine's (``None`` if none does).

    Examples
    --------
    >>> other_profile() in {None, "x86-64-v2", "x86-64-v3"}
    True
    """
    native = native_profile()
    return {"x86-64-v4": "x86-64-v3", "x86-64-v3": "x86-64-v2"}.get(native or "")


def profile_env(name: str, compile_dir: Path) -> dict[str, str]:
    """Return the kernel environment of a profile, compiling PyTensor code in ``compile_dir``.

    PyTensor's compile cache is keyed by its flags, but a separate folder keeps the profiles'
    compiled modules apart for certain.

    Parameters
    ----------
    name : str
        A key of :data:`PROFILES`.
    compile_dir : pathlib.Path
        PyTensor ``base_compiledir`` for this profile.

    Returns
    -------
    dict of str to str
        Variables to add to a kernel's environment (``PYTENSOR_FLAGS`` entries are appended
        to the inherited ones by :func:`course_utils.tools.manifest.kernel_env`).

    Raises
    ------
    ValueError
        For an unknown profile.

    Examples
    --------
    >>> profile_env("x86-64-v2", Path("/tmp/v2"))["PYTENSOR_FLAGS"]
    'gcc__cxxflags=-march=x86-64-v2,base_compiledir=/tmp/v2'
    """
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose from {sorted(PROFILES)}.")
    env = dict(PROFILES[name])
    env["PYTENSOR_FLAGS"] += f",base_compiledir={compile_dir}"
    return env
