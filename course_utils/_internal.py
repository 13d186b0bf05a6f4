"""Private helpers shared by the public modules (not part of the course API)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def repo_path(*parts: str) -> Path:
    """Return a path inside the course repository.

    Parameters
    ----------
    *parts : str
        Path components relative to the repository root.

    Returns
    -------
    pathlib.Path
        The absolute path (it may not exist).
    """
    return REPO_ROOT.joinpath(*parts)


def require_columns(df, columns: list[str], what: str) -> None:
    """Raise ``ValueError`` naming every missing column of ``df``.

    Parameters
    ----------
    df : pandas.DataFrame
        The table to check.
    columns : list of str
        Columns that must be present.
    what : str
        Name of the dataset, used in the message.
    """
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{what}: missing column(s) {missing}; found {list(df.columns)}. "
            f"Expected columns {columns}: check that the file is the original, unedited one "
            "and that no column was renamed."
        )
