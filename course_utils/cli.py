"""The ``course`` command line: the jobs of the course, one subcommand each.

Examples
--------
``course fetch``            download and verify the external datasets
``course fetch --verify``   only check files already present (no network)
``course run``              execute every notebook in place, with progress
``course run 03 05``        execute some notebooks
``course bench``            benchmark notebooks and models (``--quick``, ``--backends``)
``course slides``           render every deck to build/slides/ (HTML + PDF handouts)
``course slides 00 --no-pdf``  one deck, HTML only (no browser needed)
``course slides --execute 00``  re-execute a deck of slides/ first, then render it
``course student``          write the student editions to build/student/
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from course_utils import data, notebooks, slides, student


def _cmd_fetch(args: argparse.Namespace) -> int:
    registry = data.read_registry()
    for i, name in enumerate(registry, start=1):
        entry = registry[name]
        if args.verify:
            path = data.verify_file(_expected_location(name), entry)
        else:
            path = data.fetch_file(name, registry=registry)
        print(f"[{i}/{len(registry)}] {name}: sha256 OK ({path})")
    return 0


def _expected_location(name: str) -> Path:
    local = os.environ.get(data.DATA_DIR_ENV)
    return Path(local) / name if local else data.cache_dir() / name


def _cmd_run(args: argparse.Namespace) -> int:
    sources = notebooks.select_sources(args.notebooks)
    start = time.perf_counter()
    timings = notebooks.execute_all(sources)
    print(f"executed {len(timings)} notebook(s) in {time.perf_counter() - start:.1f} s")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from course_utils import bench  # imported lazily: it is not needed by the other jobs

    sources = notebooks.select_sources(args.notebooks)
    quick = args.quick
    problems = bench.missing_backends(args.backends)
    if problems:
        raise ValueError("; ".join(problems) + ".")
    compare_radon = not quick and bench.RADON_NOTEBOOK in [s.stem for s in sources]
    tables = bench.run_benchmark(
        sources,
        Path(args.out),
        cold=not quick,
        backends=args.backends,
        reparameterisation=bench.RADON_FITS if compare_radon else None,
    )
    for name, table in tables.items():
        print(f"\n## {name}\n{bench.to_markdown(table)}")
    print(f"\ntables written to {args.out}/ (CSV per table and benchmark.md)")
    return 0


def _cmd_slides(args: argparse.Namespace) -> int:
    decks = slides.select_decks(args.decks)
    try:
        if not args.no_pdf:
            slides.find_chromium()  # fail before the slow steps, not after them
        if args.execute:
            sources = [d.notebook.with_suffix(".py") for d in decks if d.kind == "deck"]
            notebooks.execute_all(sources)
        start = time.perf_counter()
        rendered = slides.render_decks(decks, Path(args.out), pdf=not args.no_pdf)
    except RuntimeError as err:
        print(f"course slides: error: {err}", file=sys.stderr)
        return 1
    index = Path(args.out) / "index.html"
    print(f"rendered {len(rendered)} deck(s) in {time.perf_counter() - start:.1f} s -> {index}")
    return 0


def _cmd_student(args: argparse.Namespace) -> int:
    sources = notebooks.select_sources(args.notebooks)
    written = student.write_student_editions(sources, Path(args.out))
    print(f"wrote {len(written)} student edition(s) to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``course`` command.

    Returns
    -------
    argparse.ArgumentParser
        Parser with one subcommand per job.
    """
    parser = argparse.ArgumentParser(
        prog="course", description="Jobs of the Bayesian hierarchical models course."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    fetch = sub.add_parser("fetch", help="download and verify the external datasets")
    fetch.add_argument(
        "--verify", action="store_true", help="only verify files already present (no download)"
    )
    fetch.set_defaults(func=_cmd_fetch)

    run = sub.add_parser("run", help="execute notebooks in place (all by default)")
    run.add_argument("notebooks", nargs="*", help="numbers or names, e.g. 01 or 03_water_quality")
    run.set_defaults(func=_cmd_run)

    bench = sub.add_parser(
        "bench", help="measure notebook run times and sampling efficiency (prints tables)"
    )
    bench.add_argument("notebooks", nargs="*", help="numbers or names (default: all)")
    bench.add_argument(
        "--quick",
        action="store_true",
        help="warm cache only, no reparameterisation comparison (checks that it works)",
    )
    bench.add_argument(
        "--backends",
        nargs="+",
        default=(),
        metavar="NAME",
        help="also re-sample each notebook's final model with these NUTS backends "
        "(nutpie, numpyro, blackjax) and compare them with PyMC's",
    )
    bench.add_argument("--out", default="build/bench", help="output folder (default build/bench)")
    bench.set_defaults(func=_cmd_bench)

    deck = sub.add_parser(
        "slides", help="render the slide decks to offline reveal.js HTML and PDF handouts"
    )
    deck.add_argument("decks", nargs="*", help="numbers or names, e.g. 00 or 03_water_quality")
    deck.add_argument(
        "--no-pdf", action="store_true", help="only the HTML slides (no browser needed)"
    )
    deck.add_argument(
        "--execute", action="store_true", help="re-execute the chosen decks of slides/ first"
    )
    deck.add_argument("--out", default=str(slides.BUILD_DIR), help="output folder")
    deck.set_defaults(func=_cmd_slides)

    edition = sub.add_parser("student", help="write student editions (solutions removed)")
    edition.add_argument("notebooks", nargs="*", help="numbers or names (default: all)")
    edition.add_argument("--out", default=str(student.BUILD_DIR), help="output folder")
    edition.set_defaults(func=_cmd_student)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``course`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 when a dataset or an argument is wrong.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as err:
        print(f"course {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
