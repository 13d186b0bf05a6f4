"""Generated regions of the documentation: tables that commands write, never hand-copied.

A region is delimited by two HTML comments that Markdown renders as nothing::

    <!-- begin generated: seeds -->
    ...
    <!-- end generated: seeds -->

:func:`update_region` replaces what is between them, so ``course seeds --record`` and
``course bench --record`` keep the README's tables equal to the runs that produced them.
Every generated table is rendered by :func:`markdown_table`, from data (a ``DataFrame``):
measured data is kept as data (CSV), never parsed back from Markdown.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

__all__ = ["markdown_table", "replace_region", "update_region"]


def markdown_table(table: pd.DataFrame) -> str:
    """Render a table as Markdown (a pipe table, by pandas and tabulate).

    Values are printed as they are (``str``), not re-formatted as numbers: ``30.0`` stays
    ``30.0`` and a seed list stays text.

    Parameters
    ----------
    table : pandas.DataFrame
        The table; its index is not printed.

    Returns
    -------
    str
        Markdown text, one line per row after the header and the rule.

    Examples
    --------
    >>> print(markdown_table(pd.DataFrame({"notebook": ["01_a"], "wall_s": [30.0]})))
    | notebook   | wall_s   |
    |:-----------|:---------|
    | 01_a       | 30.0     |
    """
    return str(table.to_markdown(index=False, tablefmt="pipe", disable_numparse=True))


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- begin generated: {name} -->", f"<!-- end generated: {name} -->"


def replace_region(text: str, name: str, content: str) -> str:
    r"""Return ``text`` with the generated region ``name`` holding ``content``.

    Parameters
    ----------
    text : str
        A Markdown document.
    name : str
        The region's name.
    content : str
        What the region holds (without the markers).

    Returns
    -------
    str
        The document with the region replaced.

    Raises
    ------
    ValueError
        If the document does not have exactly one region of that name.

    Examples
    --------
    >>> doc = "Intro\n<!-- begin generated: t -->\nold\n<!-- end generated: t -->\nEnd"
    >>> print(replace_region(doc, "t", "| a |"))
    Intro
    <!-- begin generated: t -->
    | a |
    <!-- end generated: t -->
    End
    """
    begin, end = _markers(name)
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    found = pattern.findall(text)
    if len(found) != 1:
        raise ValueError(
            f"expected one region {begin!r} ... {end!r}, found {len(found)}: add the two "
            "markers where the generated table belongs."
        )
    return pattern.sub(lambda _: f"{begin}\n{content.strip()}\n{end}", text)


def update_region(path: Path, name: str, content: str) -> Path:
    """Replace the generated region ``name`` of the file at ``path`` (see :func:`replace_region`).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    path.write_text(
        replace_region(path.read_text(encoding="utf-8"), name, content), encoding="utf-8"
    )
    return path
