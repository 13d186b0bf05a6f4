"""Private helpers shared by the public modules (not part of the course API)."""

from __future__ import annotations

import pandas as pd

__all__ = ["require_columns"]


def require_columns(df: pd.DataFrame, columns: list[str], what: str) -> None:
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
