"""Load and validate the course datasets.

Two datasets are public files owned by others (chemical shifts, radon). They are never
stored in the repository: :func:`fetch_file` downloads them with pooch from the pinned URLs
of the registry (``course_utils/datasets/registry.csv``, shipped with the package) into a
user cache and verifies their sha256. If the environment variable ``COURSE_DATA_DIR`` names
a folder, files are read from that folder instead, with no network access (the checksum is
still verified). The small tables of facts written by the project itself (SpaceX launches, the eight
schools)
ship with the package too, each with its data card, and are read through
:mod:`importlib.resources`, so a plain ``pip install`` of the package can load everything.

Every loader returns a validated :class:`pandas.DataFrame`; anything unexpected raises a
:class:`DataError` (a ``ValueError``) that names the problem and how to fix it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import pandas as pd
import pooch

from course_utils._internal import require_columns

__all__ = [
    "CACHE_DIR_ENV",
    "DATA_DIR_ENV",
    "DataError",
    "ExternalFile",
    "cache_dir",
    "fetch_all",
    "fetch_file",
    "load_chemical_shifts",
    "load_eight_schools",
    "load_radon",
    "load_spacex",
    "read_registry",
    "validate_chemical_shifts",
    "validate_eight_schools",
    "validate_radon",
    "validate_spacex",
    "verify_file",
]

DATA_DIR_ENV = "COURSE_DATA_DIR"
CACHE_DIR_ENV = "COURSE_CACHE_DIR"
FETCH_COMMAND = "course fetch"
DATASETS = files("course_utils") / "datasets"
REGISTRY_FILE = DATASETS / "registry.csv"
SPACEX_FILE = DATASETS / "spacex_launches.csv"
EIGHT_SCHOOLS_FILE = DATASETS / "eight_schools.csv"
CACHE_NAME = "hierarchical-course"


class DataError(ValueError):
    """A dataset is missing, corrupted or does not have the expected content."""


@dataclass(frozen=True)
class ExternalFile:
    """One external dataset of the registry.

    Attributes
    ----------
    name : str
        File name, as stored in the cache or in ``COURSE_DATA_DIR``.
    sha256 : str
        Expected sha256 of the file (hex digest).
    url : str
        Pinned public URL the file is downloaded from.
    source : str
        Where the data comes from.
    licence : str
        What is known about the licence.
    """

    name: str
    sha256: str
    url: str
    source: str
    licence: str


def _read_csv(path: Path | str | Traversable, **kwargs) -> pd.DataFrame:
    """Read a CSV from a path or from a file shipped with the package."""
    if isinstance(path, Traversable) and not isinstance(path, Path):
        with path.open("r", encoding="utf-8") as stream:
            return pd.read_csv(stream, **kwargs)
    return pd.read_csv(path, **kwargs)


def read_registry(path: Path | str | Traversable = REGISTRY_FILE) -> dict[str, ExternalFile]:
    """Read the registry of external datasets.

    Parameters
    ----------
    path : path-like, default the registry shipped with the package
        CSV with columns ``name, sha256, url, source, licence``.

    Returns
    -------
    dict of str to ExternalFile
        The entries, keyed by file name.

    Examples
    --------
    >>> sorted(read_registry())
    ['chemical_shifts_theo_exp.csv', 'radon.csv']
    """
    table = _read_csv(path, dtype=str, keep_default_na=False)
    require_columns(table, ["name", "sha256", "url", "source", "licence"], f"registry {path}")
    return {row["name"]: ExternalFile(**row) for row in table.to_dict(orient="records")}


def _fetcher(registry: dict[str, ExternalFile]) -> pooch.Pooch:
    """Return the pooch that downloads the registry's files into the course cache."""
    return pooch.create(
        path=pooch.os_cache(CACHE_NAME),
        base_url="",
        env=CACHE_DIR_ENV,
        registry={name: f"sha256:{entry.sha256}" for name, entry in registry.items()},
        urls={name: entry.url for name, entry in registry.items()},
        retry_if_failed=2,
    )


def cache_dir() -> Path:
    """Return the folder where downloaded datasets are cached.

    ``COURSE_CACHE_DIR`` overrides the platform's user cache folder.

    Returns
    -------
    pathlib.Path
        The cache folder (created on first download).

    Examples
    --------
    >>> cache_dir().name in {"hierarchical-course", os.environ.get(CACHE_DIR_ENV, "")}
    True
    """
    return Path(_fetcher({}).abspath)


def verify_file(path: Path, entry: ExternalFile) -> Path:
    """Check that ``path`` exists and has the sha256 of ``entry``.

    Parameters
    ----------
    path : pathlib.Path
        The local file.
    entry : ExternalFile
        The registry entry it must match.

    Returns
    -------
    pathlib.Path
        ``path``, once verified.

    Raises
    ------
    DataError
        If the file is missing or its checksum differs; the file is then not used.
    """
    if not path.is_file():
        raise DataError(
            f"{entry.name} not found at {path}. Download it with `{FETCH_COMMAND}` while "
            f"online, or set {DATA_DIR_ENV} to a folder that holds it."
        )
    digest = pooch.file_hash(str(path), alg="sha256")
    if digest != entry.sha256:
        raise DataError(
            f"{path} has sha256 {digest}, expected {entry.sha256}: the file is corrupted or "
            "not the pinned version, so it was not used. Delete it and run "
            f"`{FETCH_COMMAND}` (or copy the original file there)."
        )
    return path


def fetch_file(name: str, *, registry: dict[str, ExternalFile] | None = None) -> Path:
    """Return the verified local path of an external dataset.

    With ``COURSE_DATA_DIR`` set, the file is read from that folder and nothing is
    downloaded. Otherwise pooch downloads it (once) from the pinned URL into
    :func:`cache_dir` and checks its sha256.

    Parameters
    ----------
    name : str
        File name, a key of the registry.
    registry : dict, optional
        Registry to use instead of the one shipped with the package.

    Returns
    -------
    pathlib.Path
        Path to a file whose sha256 matches the registry.

    Raises
    ------
    DataError
        Unknown name, file missing from ``COURSE_DATA_DIR``, wrong checksum, or download
        failure.

    Examples
    --------
    >>> fetch_file("radon.csv").name
    'radon.csv'
    """
    registry = read_registry() if registry is None else registry
    if name not in registry:
        raise DataError(f"unknown dataset {name!r}; known datasets: {sorted(registry)}.")
    entry = registry[name]
    local_dir = os.environ.get(DATA_DIR_ENV)
    if local_dir:
        return verify_file(Path(local_dir) / name, entry)
    try:
        downloaded = _fetcher(registry).fetch(name, progressbar=False)
    except ValueError as err:  # pooch: checksum mismatch (the download is discarded)
        raise DataError(
            f"download of {name} from {entry.url} does not have the pinned sha256, so it was "
            f"not used ({err}). Try again later, or set {DATA_DIR_ENV} to a folder holding "
            "the original file."
        ) from err
    except Exception as err:  # network errors come from requests, with many types
        raise DataError(
            f"could not download {name} from {entry.url} ({type(err).__name__}: {err}). "
            f"Run `{FETCH_COMMAND}` while online, or set {DATA_DIR_ENV} to a folder that "
            "holds the file."
        ) from err
    return Path(downloaded)


def fetch_all(*, registry: dict[str, ExternalFile] | None = None) -> dict[str, Path]:
    """Fetch and verify every external dataset of the registry.

    Parameters
    ----------
    registry : dict, optional
        Registry to use instead of the one shipped with the package.

    Returns
    -------
    dict of str to pathlib.Path
        Verified local path of each file.
    """
    registry = read_registry() if registry is None else registry
    return {name: fetch_file(name, registry=registry) for name in registry}


def _require_numeric(df: pd.DataFrame, columns: list[str], what: str) -> None:
    for col in columns:
        converted = pd.to_numeric(df[col], errors="coerce")
        bad = converted.isna() & df[col].notna()
        if bad.any():
            rows = list(df.index[bad][:5])
            raise DataError(
                f"{what}: column {col!r} has non-numeric values at rows {rows} "
                f"(e.g. {df.loc[rows[0], col]!r}); fix or remove those rows."
            )
        if converted.isna().any():
            rows = list(df.index[converted.isna()][:5])
            raise DataError(
                f"{what}: column {col!r} has missing values (NaN) at rows {rows}; "
                "fill them in or drop those rows before loading."
            )


def _require_no_missing(df: pd.DataFrame, columns: list[str], what: str) -> None:
    for col in columns:
        missing = df[col].isna() | (df[col].astype(str).str.strip() == "")
        if missing.any():
            raise DataError(
                f"{what}: column {col!r} has missing values at rows {list(df.index[missing][:5])}; "
                "fill them in or drop those rows."
            )


def validate_chemical_shifts(df: pd.DataFrame) -> pd.DataFrame:
    """Validate the chemical-shift table and add ``diff = theo - exp``.

    Parameters
    ----------
    df : pandas.DataFrame
        Raw table with columns ``ID, aa, theo, exp, cat``.

    Returns
    -------
    pandas.DataFrame
        Columns ``ID`` (str), ``aa`` (categorical, categories sorted), ``theo``, ``exp``,
        ``diff`` (float64) and ``cat`` (categorical).

    Raises
    ------
    DataError
        Missing columns, missing values or non-numeric shifts.

    Examples
    --------
    >>> raw = pd.DataFrame({"ID": ["1BM8"], "aa": ["ILE"], "theo": [61.18],
    ...                     "exp": [58.27], "cat": ["Non-Polar"]})
    >>> round(float(validate_chemical_shifts(raw)["diff"].iloc[0]), 2)
    2.91
    """
    what = "chemical shifts"
    try:
        require_columns(df, ["ID", "aa", "theo", "exp", "cat"], what)
    except ValueError as err:
        raise DataError(str(err)) from None
    _require_no_missing(df, ["ID", "aa", "cat"], what)
    _require_numeric(df, ["theo", "exp"], what)
    out = pd.DataFrame(
        {
            "ID": df["ID"].astype(str),
            "aa": pd.Categorical(df["aa"].astype(str)),
            "theo": pd.to_numeric(df["theo"]).astype("float64"),
            "exp": pd.to_numeric(df["exp"]).astype("float64"),
            "cat": pd.Categorical(df["cat"].astype(str)),
        }
    )
    out.insert(4, "diff", out["theo"] - out["exp"])
    return out.reset_index(drop=True)


def validate_radon(df: pd.DataFrame) -> pd.DataFrame:
    """Validate the Minnesota radon table.

    Parameters
    ----------
    df : pandas.DataFrame
        Raw table with columns ``floor, county, log_radon, log_uranium`` (a leading
        unnamed row-id column is kept as ``id`` when present).

    Returns
    -------
    pandas.DataFrame
        Columns ``floor`` (int64, 0 basement / 1 first floor), ``county`` (categorical,
        categories in order of first appearance in the file), ``log_radon`` and
        ``log_uranium`` (float64), plus ``id`` (int64) when the file has row ids.

    Raises
    ------
    DataError
        Missing columns, missing or non-numeric values, or a floor other than 0/1.

    Examples
    --------
    >>> raw = pd.DataFrame({"floor": [0, 1], "county": ["B", "A"],
    ...                     "log_radon": [1.0, 0.5], "log_uranium": [-0.7, 0.3]})
    >>> list(validate_radon(raw)["county"].cat.categories)
    ['B', 'A']
    """
    what = "radon"
    df = df.rename(columns={"Unnamed: 0": "id", "": "id"})
    try:
        require_columns(df, ["floor", "county", "log_radon", "log_uranium"], what)
    except ValueError as err:
        raise DataError(str(err)) from None
    _require_no_missing(df, ["county"], what)
    numeric = ["floor", "log_radon", "log_uranium"] + (["id"] if "id" in df else [])
    _require_numeric(df, numeric, what)
    floor = pd.to_numeric(df["floor"])
    bad = ~floor.isin([0, 1])
    if bad.any():
        raise DataError(
            f"{what}: column 'floor' must be 0 (basement) or 1 (first floor); rows "
            f"{list(df.index[bad][:5])} have {sorted(set(floor[bad]))[:5]}. Fix those rows."
        )
    county = df["county"].astype(str)
    out = pd.DataFrame(
        {
            "floor": floor.astype("int64"),
            "county": pd.Categorical(county, categories=pd.unique(county)),
            "log_radon": pd.to_numeric(df["log_radon"]).astype("float64"),
            "log_uranium": pd.to_numeric(df["log_uranium"]).astype("float64"),
        }
    )
    if "id" in df:
        out.insert(0, "id", pd.to_numeric(df["id"]).astype("int64"))
    return out.reset_index(drop=True)


def validate_spacex(df: pd.DataFrame) -> pd.DataFrame:
    """Validate the SpaceX launch table.

    Parameters
    ----------
    df : pandas.DataFrame
        Table with columns ``vehicle, launches, successes``.

    Returns
    -------
    pandas.DataFrame
        ``vehicle`` (categorical, file order), ``launches`` and ``successes`` (int64).

    Raises
    ------
    DataError
        Missing columns, missing, non-numeric, non-integer or negative counts,
        ``successes > launches`` or duplicated vehicles.

    Examples
    --------
    >>> validate_spacex(pd.DataFrame({"vehicle": ["Falcon 1"], "launches": [5],
    ...                               "successes": [2]}))["successes"].tolist()
    [2]
    """
    what = "SpaceX launches"
    try:
        require_columns(df, ["vehicle", "launches", "successes"], what)
    except ValueError as err:
        raise DataError(str(err)) from None
    _require_no_missing(df, ["vehicle"], what)
    _require_numeric(df, ["launches", "successes"], what)
    counts = {c: pd.to_numeric(df[c]) for c in ("launches", "successes")}
    for col, values in counts.items():
        if (values < 0).any():
            raise DataError(
                f"{what}: column {col!r} has negative counts at rows "
                f"{list(df.index[values < 0])}; counts must be >= 0."
            )
        if (values % 1 != 0).any():
            raise DataError(
                f"{what}: column {col!r} has non-integer counts at rows "
                f"{list(df.index[values % 1 != 0])}; counts must be whole numbers."
            )
    over = counts["successes"] > counts["launches"]
    if over.any():
        raise DataError(
            f"{what}: successes > launches for {list(df.loc[over, 'vehicle'])}; "
            "a vehicle cannot succeed more often than it launched. Fix those rows."
        )
    if df["vehicle"].duplicated().any():
        raise DataError(
            f"{what}: duplicated vehicles {list(df.loc[df['vehicle'].duplicated(), 'vehicle'])}; "
            "give each vehicle one row."
        )
    vehicle = df["vehicle"].astype(str)
    return pd.DataFrame(
        {
            "vehicle": pd.Categorical(vehicle, categories=pd.unique(vehicle)),
            "launches": counts["launches"].astype("int64"),
            "successes": counts["successes"].astype("int64"),
        }
    ).reset_index(drop=True)


def load_chemical_shifts() -> pd.DataFrame:
    """Load the theoretical vs experimental chemical shifts (1776 rows, 19 amino acids).

    Returns
    -------
    pandas.DataFrame
        See :func:`validate_chemical_shifts`; ``diff = theo - exp`` is the quantity modelled.

    Examples
    --------
    >>> cs = load_chemical_shifts()
    >>> cs["aa"].cat.categories[:3].tolist()
    ['ALA', 'ARG', 'ASN']
    """
    return validate_chemical_shifts(pd.read_csv(fetch_file("chemical_shifts_theo_exp.csv")))


def load_radon() -> pd.DataFrame:
    """Load the Minnesota radon survey (919 homes in 85 counties).

    Returns
    -------
    pandas.DataFrame
        See :func:`validate_radon`; ``county`` is categorical in file order (AITKIN first).

    Examples
    --------
    >>> radon = load_radon()
    >>> radon["county"].cat.categories.size
    85
    """
    return validate_radon(pd.read_csv(fetch_file("radon.csv")))


def load_spacex(path: Path | str | Traversable = SPACEX_FILE) -> pd.DataFrame:
    """Load the SpaceX launches by vehicle family.

    Parameters
    ----------
    path : path-like, default the table shipped with the package
        CSV with columns ``vehicle, launches, successes`` (its data card,
        ``spacex_launches.md``, is beside it).

    Returns
    -------
    pandas.DataFrame
        See :func:`validate_spacex`.

    Examples
    --------
    >>> load_spacex()["launches"].sum()
    np.int64(327)
    """
    return validate_spacex(_read_csv(path))


def validate_eight_schools(df: pd.DataFrame) -> pd.DataFrame:
    """Validate the eight-schools table (estimated effects with known standard errors).

    Parameters
    ----------
    df : pandas.DataFrame
        Table with columns ``school, effect, se``.

    Returns
    -------
    pandas.DataFrame
        ``school`` (str, file order), ``effect`` and ``se`` (float64).

    Raises
    ------
    DataError
        Missing columns or values, non-numeric numbers, a standard error that is not positive
        and finite, or a school listed twice.

    Examples
    --------
    >>> validate_eight_schools(pd.DataFrame({"school": ["A"], "effect": [28], "se": [15]}))
      school  effect    se
    0      A    28.0  15.0
    """
    what = "eight schools"
    try:
        require_columns(df, ["school", "effect", "se"], what)
    except ValueError as err:
        raise DataError(str(err)) from None
    _require_no_missing(df, ["school"], what)
    _require_numeric(df, ["effect", "se"], what)
    se = pd.to_numeric(df["se"]).astype("float64")
    bad = ~(se > 0) | ~se.map(math.isfinite)
    if bad.any():
        raise DataError(
            f"{what}: column 'se' must be positive and finite (a standard error); rows "
            f"{list(df.index[bad])} have {list(se[bad])}. Fix those rows."
        )
    if df["school"].duplicated().any():
        raise DataError(
            f"{what}: schools {list(df.loc[df['school'].duplicated(), 'school'])} are listed "
            "twice; give each school one row."
        )
    return pd.DataFrame(
        {
            "school": df["school"].astype(str),
            "effect": pd.to_numeric(df["effect"]).astype("float64"),
            "se": se,
        }
    ).reset_index(drop=True)


def load_eight_schools(path: Path | str | Traversable = EIGHT_SCHOOLS_FILE) -> pd.DataFrame:
    """Load the eight-schools SAT coaching experiments (Rubin 1981; BDA3 table 5.2).

    Parameters
    ----------
    path : path-like, default the table shipped with the package
        CSV with columns ``school, effect, se`` (its data card, ``eight_schools.md``, is
        beside it).

    Returns
    -------
    pandas.DataFrame
        See :func:`validate_eight_schools`.

    Examples
    --------
    >>> schools = load_eight_schools()
    >>> schools["effect"].tolist()
    [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]
    """
    return validate_eight_schools(_read_csv(path))
