import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from course_utils import data

SHARED_README = Path(__file__).resolve().parents[2] / "shared" / "data" / "README.md"


# --- registry -------------------------------------------------------------------------------


def test_registry_lists_the_two_external_files_with_source_and_licence():
    registry = data.read_registry()
    assert sorted(registry) == ["chemical_shifts_theo_exp.csv", "radon.csv"]
    for entry in registry.values():
        assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
        assert entry.url.startswith("https://") and entry.url.endswith(entry.name)
        assert entry.source and entry.licence


@pytest.mark.skipif(not SHARED_README.is_file(), reason="needs the shared data README")
def test_registry_matches_the_pinned_urls_and_checksums_of_the_mirror():
    text = SHARED_README.read_text()
    for entry in data.read_registry().values():
        assert entry.sha256 in text and entry.url in text


def test_registry_without_required_columns_is_rejected(tmp_path):
    bad = tmp_path / "registry.csv"
    bad.write_text("name,url\nradon.csv,https://example.org/radon.csv\n")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['sha256', 'source', 'licence'\]"):
        data.read_registry(bad)


def test_external_files_are_not_committed_to_the_repository():
    root = Path(data.__file__).resolve().parents[1]
    pinned = {entry.sha256 for entry in data.read_registry().values()}
    skip = {".git", ".venv", ".venv-backends", "build", "node_modules"}
    files = [
        p for p in root.rglob("*") if p.is_file() and not skip & set(p.relative_to(root).parts)
    ]
    assert len(files) > 20, "the walk found the repository's files"
    copies = [p for p in files if hashlib.sha256(p.read_bytes()).hexdigest() in pinned]
    assert copies == [], "external datasets must be fetched, never committed"


def test_small_tables_ship_inside_the_package():
    assert data.SPACEX_FILE.is_file() and data.REGISTRY_FILE.is_file()
    assert (data.DATASETS / "spacex_launches.md").is_file(), "every table has its data card"
    assert Path(str(data.SPACEX_FILE)).is_relative_to(Path(data.__file__).parent)


# --- fetching: local folder ------------------------------------------------------------------


def test_local_folder_is_used_and_verified(monkeypatch, served_dir):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(served_dir))
    path = data.fetch_file("radon.csv")
    assert path == served_dir / "radon.csv"


def test_missing_file_offline_names_the_variable_and_the_fetch_command(monkeypatch, tmp_path):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    with pytest.raises(data.DataError, match="radon.csv not found") as err:
        data.load_radon()
    assert data.DATA_DIR_ENV in str(err.value) and "course fetch" in str(err.value)


def test_wrong_checksum_in_local_folder_is_refused(monkeypatch, served_dir):
    target = served_dir / "radon.csv"
    target.write_text(target.read_text().replace("AITKIN", "AITKEN", 1))
    monkeypatch.setenv(data.DATA_DIR_ENV, str(served_dir))
    with pytest.raises(data.DataError, match="sha256 .* was not used"):
        data.load_radon()
    assert "AITKEN" in target.read_text(), "the corrupted file must be left for inspection"


def test_unknown_dataset_is_refused():
    with pytest.raises(data.DataError, match="unknown dataset 'nope.csv'"):
        data.fetch_file("nope.csv")


# --- fetching: download with pooch (served on loopback, no internet) -----------------------


def _registry_for(url, name="radon.csv", sha256=None, source_file=None):
    digest = sha256 or hashlib.sha256(Path(source_file).read_bytes()).hexdigest()
    return {name: data.ExternalFile(name, digest, url, "test", "test")}


def test_download_goes_to_the_cache_and_is_verified(monkeypatch, tmp_path, http_server, served_dir):
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv(data.CACHE_DIR_ENV, str(tmp_path / "cache"))
    registry = _registry_for(http_server("radon.csv"), source_file=served_dir / "radon.csv")
    path = data.fetch_file("radon.csv", registry=registry)
    assert path == tmp_path / "cache" / "radon.csv"
    assert path.read_bytes() == (served_dir / "radon.csv").read_bytes()
    # A second call uses the cache: it works with the server gone.
    (served_dir / "radon.csv").unlink()
    assert data.fetch_file("radon.csv", registry=registry) == path


def test_download_with_wrong_checksum_is_discarded(monkeypatch, tmp_path, http_server):
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv(data.CACHE_DIR_ENV, str(tmp_path / "cache"))
    registry = _registry_for(http_server("radon.csv"), sha256="0" * 64)
    with pytest.raises(data.DataError, match="does not have the pinned sha256"):
        data.fetch_file("radon.csv", registry=registry)
    assert not (tmp_path / "cache" / "radon.csv").exists()


def test_download_failure_names_the_fix(monkeypatch, tmp_path, http_server):
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv(data.CACHE_DIR_ENV, str(tmp_path / "cache"))
    registry = _registry_for(http_server("absent.csv"), name="absent.csv", sha256="0" * 64)
    with pytest.raises(data.DataError, match="could not download absent.csv") as err:
        data.fetch_file("absent.csv", registry=registry)
    assert data.DATA_DIR_ENV in str(err.value) and "course fetch" in str(err.value)


def test_fetch_all_returns_every_registry_file(external_files):
    assert set(external_files) == set(data.read_registry())
    for name, path in external_files.items():
        assert path.name == name and path.is_file()


# --- the real datasets ------------------------------------------------------------------------


def test_load_chemical_shifts():
    cs = data.load_chemical_shifts()
    assert list(cs.columns) == ["ID", "aa", "theo", "exp", "diff", "cat"]
    assert len(cs) == 1776
    assert cs["ID"].nunique() == 14
    assert isinstance(cs["aa"].dtype, pd.CategoricalDtype)
    assert cs["aa"].cat.categories.size == 19
    assert list(cs["aa"].cat.categories) == sorted(cs["aa"].cat.categories)
    np.testing.assert_allclose(cs["diff"], cs["theo"] - cs["exp"])
    assert cs[["theo", "exp", "diff"]].dtypes.eq("float64").all()


def test_load_radon():
    radon = data.load_radon()
    assert list(radon.columns) == ["id", "floor", "county", "log_radon", "log_uranium"]
    assert len(radon) == 919
    counties = radon["county"].cat.categories
    assert counties.size == 85
    assert counties[0] == "AITKIN" and counties[-1] == "YELLOWMEDICINE"
    # categories follow the order of first appearance in the file
    assert list(counties) == list(pd.unique(radon["county"].astype(str)))
    assert set(radon["floor"]) == {0, 1}
    assert radon["floor"].dtype == "int64"


def test_load_spacex_matches_the_course_table():
    spacex = data.load_spacex()
    assert spacex.to_dict(orient="list") == {
        "vehicle": ["Falcon 1", "Falcon 9", "Falcon Heavy", "Starship"],
        "launches": [5, 304, 9, 9],
        "successes": [2, 301, 9, 5],
    }
    assert spacex["launches"].dtype == "int64"


# --- bad input --------------------------------------------------------------------------------


def _chem():
    return pd.DataFrame(
        {
            "ID": ["A", "A"],
            "aa": ["ALA", "GLY"],
            "theo": [1.0, 2.0],
            "exp": [0.5, 1.0],
            "cat": ["Special", "Special"],
        }
    )


def _radon():
    return pd.DataFrame(
        {"floor": [0, 1], "county": ["B", "A"], "log_radon": [1.0, 0.5], "log_uranium": [-0.7, 0.3]}
    )


def _spacex():
    return pd.DataFrame({"vehicle": ["a", "b"], "launches": [5, 9], "successes": [2, 9]})


@pytest.mark.parametrize(
    ("validate", "make", "column"),
    [
        (data.validate_chemical_shifts, _chem, "exp"),
        (data.validate_radon, _radon, "log_radon"),
        (data.validate_spacex, _spacex, "successes"),
    ],
)
def test_missing_or_renamed_column(validate, make, column):
    df = make().rename(columns={column: column.upper() + "_renamed"})
    with pytest.raises(ValueError, match=rf"missing column\(s\) \['{column}'\]"):
        validate(df)


@pytest.mark.parametrize(
    ("validate", "make", "column"),
    [
        (data.validate_chemical_shifts, _chem, "theo"),
        (data.validate_radon, _radon, "log_uranium"),
        (data.validate_spacex, _spacex, "launches"),
    ],
)
def test_non_numeric_value(validate, make, column):
    df = make().astype({column: object})
    df.loc[1, column] = "n/a?"
    with pytest.raises(
        ValueError, match=rf"column '{column}' has non-numeric values at rows \[1\]"
    ):
        validate(df)


@pytest.mark.parametrize(
    ("validate", "make", "column"),
    [
        (data.validate_chemical_shifts, _chem, "exp"),
        (data.validate_chemical_shifts, _chem, "aa"),
        (data.validate_radon, _radon, "floor"),
        (data.validate_radon, _radon, "county"),
        (data.validate_spacex, _spacex, "successes"),
    ],
)
def test_missing_value(validate, make, column):
    df = make().astype({column: object})
    df.loc[0, column] = np.nan
    with pytest.raises(ValueError, match=rf"column '{column}' has missing values.* rows \[0\]"):
        validate(df)


def test_negative_counts():
    df = _spacex()
    df.loc[1, "launches"] = -1
    with pytest.raises(ValueError, match=r"'launches' has negative counts at rows \[1\]"):
        data.validate_spacex(df)


def test_successes_cannot_exceed_launches():
    df = _spacex()
    df.loc[0, "successes"] = 6
    with pytest.raises(ValueError, match=r"successes > launches for \['a'\]"):
        data.validate_spacex(df)


def test_fractional_counts():
    df = _spacex().astype({"launches": float})
    df.loc[0, "launches"] = 4.5
    with pytest.raises(ValueError, match="non-integer counts"):
        data.validate_spacex(df)


def test_duplicated_vehicle():
    df = _spacex()
    df.loc[1, "vehicle"] = "a"
    with pytest.raises(ValueError, match=r"duplicated vehicles \['a'\]"):
        data.validate_spacex(df)


def test_floor_must_be_zero_or_one():
    df = _radon()
    df.loc[1, "floor"] = 2
    with pytest.raises(ValueError, match=r"'floor' must be 0 \(basement\) or 1"):
        data.validate_radon(df)


def test_load_spacex_from_a_bad_file(tmp_path):
    path = tmp_path / "spacex.csv"
    path.write_text("vehicle,launches,successes\nFalcon 1,5,7\n")
    with pytest.raises(ValueError, match="successes > launches"):
        data.load_spacex(path)


# --- eight schools ---------------------------------------------------------------------------


def test_load_eight_schools_matches_the_published_table():
    schools = data.load_eight_schools()
    # BDA3 table 5.2, typed independently of the shipped file.
    assert schools["school"].tolist() == list("ABCDEFGH")
    assert schools["effect"].tolist() == [28, 8, -3, 7, -1, 1, 18, 12]
    assert schools["se"].tolist() == [15, 10, 16, 11, 9, 11, 10, 18]
    assert (data.DATASETS / "eight_schools.md").is_file()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"school": ["A"], "effect": [1.0]}, r"missing column\(s\) \['se'\]"),
        ({"school": ["A"], "effect": [1.0], "se": [0.0]}, "must be positive and finite"),
        ({"school": ["A"], "effect": [1.0], "se": [-2.0]}, "must be positive and finite"),
        ({"school": ["A", "A"], "effect": [1.0, 2.0], "se": [1.0, 1.0]}, "listed twice"),
        ({"school": ["A"], "effect": ["big"], "se": [1.0]}, "non-numeric values"),
    ],
)
def test_a_bad_eight_schools_table_is_refused(table, message):
    with pytest.raises(data.DataError, match=message):
        data.validate_eight_schools(pd.DataFrame(table))
