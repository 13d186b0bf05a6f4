"""The ``course`` command line: the jobs of the course, one subcommand each.

Examples
--------
``course fetch``                 download and verify the external datasets
``course fetch --verify``        only check files already present (no network)
``course run``                   execute every notebook into build/executed/, with progress
``course run 03 05``             execute some notebooks
``course run --in-place 03``     re-execute and overwrite the committed notebook (authors)
``course validate 03``           re-execute and say which committed numbers changed (authors)
``course seeds 03 --n 10``       re-run a notebook under 10 other sampler seeds
``course seeds --record``        ... and store its tolerances for the test suite (after
                                 checking them on 3 held-out seeds)
``course seeds 05 --validate 3``  check recorded tolerances on 3 seeds they did not use
``course references 02``         record the long-run references of lesson 02's exercise checks
``course references --check``    say whether every recorded reference fits its lesson's code
``course bench``                 benchmark notebooks and models (``--quick``, ``--backends``)
``course slides``                render every deck to build/slides/ (HTML + PDF handouts)
``course slides 00 --no-pdf``    one deck, HTML only (no browser needed)
``course student``               write the student editions to build/student/
``course site``                  build the website into build/site/ (``--serve`` to look)

Every command works on the notebooks listed in ``course.toml``, found from the current
folder. Commands that read executed notebooks (slides, student) read the committed ones,
or those of ``course run`` with ``--executed build/executed``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from course_utils import data
from course_utils.tools import execute, manifest

__all__ = ["build_parser", "main"]


def _cmd_fetch(args: argparse.Namespace) -> int:
    registry = data.read_registry()
    for i, name in enumerate(registry, start=1):
        if args.verify:
            path = data.verify_file(_expected_location(name), registry[name])
        else:
            path = data.fetch_file(name)
        print(manifest.progress_line(i, len(registry), name, f"sha256 OK ({path})"))
    return 0


def _expected_location(name: str) -> Path:
    local = os.environ.get(data.DATA_DIR_ENV)
    return Path(local) / name if local else data.cache_dir() / name


def _cmd_run(args: argparse.Namespace) -> int:
    course = manifest.load_course()
    notebooks = course.select(args.notebooks)
    start = time.perf_counter()
    target = None if args.in_place else course.executed_dir
    timings = execute.run_all(notebooks, target)
    where = "in place" if args.in_place else f"into {course.executed_dir}"
    print(f"executed {len(timings)} notebook(s) {where} in {time.perf_counter() - start:.1f} s")
    return 0


def _cmd_seeds(args: argparse.Namespace) -> int:
    from course_utils.tools import seeds

    course = manifest.load_course()
    notebooks = course.select(args.notebooks)
    out_dir = course.build_dir / "seeds"
    if args.validate is not None:
        return seeds.validate_recorded(
            course, notebooks, k=args.validate, out_dir=out_dir, resume=args.resume
        )
    held_out = args.held_out
    if held_out is None:
        held_out = seeds.HELD_OUT if args.record else 0
    return seeds.run_sweeps(
        course,
        notebooks,
        n=args.n,
        record=args.record,
        out_dir=out_dir,
        resume=args.resume,
        held_out=held_out,
    )


def _cmd_references(args: argparse.Namespace) -> int:
    import jupytext

    from course_utils.tools import references

    course = manifest.load_course()
    chosen = course.select(args.notebooks, kind="lesson")
    declared = {nb.name: references.lesson_references(nb) for nb in chosen}
    out_dir = course.root / references.RECORD_DIR
    if args.check:  # every chosen lesson: a file left over from removed references counts too
        stale = 0
        for nb in chosen:
            path = out_dir / f"{nb.name}.json"
            problems = references.stale_references(
                jupytext.read(nb.source), declared[nb.name], path
            )
            stale |= bool(problems)
            if declared[nb.name] or problems:
                print(f"{nb.name}: {'; '.join(problems) or 'up to date'}")
        if stale:
            print(f"run `course references` for the lessons above to record them again ({out_dir})")
        return int(stale)
    todo = [nb for nb in chosen if declared[nb.name]]
    if args.notebooks and len(todo) < len(chosen):
        without = ", ".join(nb.name for nb in chosen if not declared[nb.name])
        raise ValueError(
            f"{without}: no check module of these lessons declares REFERENCES; nothing to record."
        )
    for i, nb in enumerate(todo, start=1):
        print(manifest.progress_line(i, len(todo), nb.name, "sampling the long runs ..."))
        start = time.perf_counter()
        written = references.record(
            nb,
            declared[nb.name],
            out_dir=out_dir,
            draws=references.DRAWS if args.draws is None else args.draws,
        )
        took = time.perf_counter() - start
        print(manifest.progress_line(i, len(todo), nb.name, f"{took:.0f} s -> {written}"))
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _cmd_validate(args: argparse.Namespace) -> int:
    from course_utils.tools.validate import validate_notebook

    course = manifest.load_course()
    failed = 0
    for notebook in course.select(args.notebooks):
        failed |= validate_notebook(course, notebook, course.executed_dir)
    return failed


def _cmd_bench(args: argparse.Namespace) -> int:
    from course_utils.tools import bench  # imported lazily: it is not needed by the other jobs
    from course_utils.tools.docs import markdown_table

    course = manifest.load_course()
    notebooks = course.select(args.notebooks)
    problems = bench.missing_backends(args.backends)
    if problems:
        raise ValueError("; ".join(problems) + ".")
    if args.record and (args.quick or args.backends):
        raise ValueError(
            "--record writes the course's benchmark into the docs: run it without --quick or "
            "--backends."
        )
    recorded = course.root / bench.RECORD_DIR
    if args.record and args.notebooks and not recorded.is_dir():
        raise ValueError(
            f"{recorded} does not exist: record the whole course once with "
            "`course bench --record` (no notebook names)."
        )
    out = Path(args.out) if args.out else course.build_dir / "bench"
    tables = bench.run_benchmark(notebooks, out, cold=not args.quick, backends=args.backends)
    for name, table in tables.items():
        print(f"\n## {name}\n{markdown_table(table)}")
    print(f"\ntables written to {out}/ (CSV per table and benchmark.md)")
    if args.record and args.notebooks:
        # Only these notebooks were measured: their rows replace the recorded ones.
        old = bench.read_tables(recorded)
        tables = bench.merge_recorded(old, tables, [nb.name for nb in course.notebooks])
    if args.record:
        from course_utils.tools.usage import idle_server_mib

        # The idle server is measured in the metric of the tables (PSS on Linux, else RSS).
        server_mib = idle_server_mib(bench.memory_metric_of(tables["notebooks"]))
        for path in bench.record(tables, course.root, server_mib=server_mib):
            print(f"recorded in {path}")
    return 0


def _executed_dir(course: manifest.Course, value: str | None) -> Path | None:
    return None if value is None else (course.root / value).resolve()


def _cmd_slides(args: argparse.Namespace) -> int:
    from course_utils.tools.browser import find_chromium
    from course_utils.tools.slides.render import render_decks

    course = manifest.load_course()
    notebooks = course.select(args.decks)
    out = Path(args.out) if args.out else course.build_dir / "slides"
    try:
        if not args.no_pdf:
            find_chromium()  # fail before the slow steps, not after them
        start = time.perf_counter()
        rendered = render_decks(
            notebooks, out, executed_dir=_executed_dir(course, args.executed), pdf=not args.no_pdf
        )
    except RuntimeError as err:
        print(f"course slides: error: {err}", file=sys.stderr)
        return 1
    index = out / "index.html"
    print(f"rendered {len(rendered)} deck(s) in {time.perf_counter() - start:.1f} s -> {index}")
    return 0


def _cmd_student(args: argparse.Namespace) -> int:
    from course_utils.tools import student

    course = manifest.load_course()
    notebooks = course.select(args.notebooks, kind="lesson")
    out = Path(args.out) if args.out else course.build_dir / "student"
    written = student.write_student_editions(
        notebooks, out, executed_dir=_executed_dir(course, args.executed)
    )
    print(f"wrote {len(written)} student edition(s) to {out}")
    return 0


def _cmd_site(args: argparse.Namespace) -> int:
    from course_utils.tools.site.build import build_site
    from course_utils.tools.site.serve import serve

    course = manifest.load_course()
    out = Path(args.out) if args.out else course.build_dir / "site"
    if not args.serve_only:
        index = build_site(
            course,
            out,
            executed_dir=_executed_dir(course, args.executed),
            student_dir=course.root / args.student if args.student else None,
            slides_dir=course.root / args.slides if args.slides else None,
        )
        print(f"site written to {index}")
    if args.serve is not None or args.serve_only:
        serve(out, args.serve or 8000)
    return 0


def _names(parser: argparse.ArgumentParser, dest: str, what: str) -> None:
    parser.add_argument(
        dest,
        nargs="*",
        help=f"{what} by number or name, e.g. 01 or 03_water_quality (default: all)",
    )


def _executed_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--executed",
        metavar="DIR",
        help="read executed notebooks from DIR (e.g. build/executed, written by `course run`) "
        "instead of the committed ones",
    )


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

    run = sub.add_parser("run", help="execute notebooks into build/executed/ (all by default)")
    _names(run, "notebooks", "notebooks")
    run.add_argument(
        "--in-place",
        action="store_true",
        help="overwrite the committed .ipynb of each notebook instead (for authors)",
    )
    run.set_defaults(func=_cmd_run)

    seeds = sub.add_parser(
        "seeds", help="re-run notebooks under other sampler seeds and report which cells fail"
    )
    _names(seeds, "notebooks", "notebooks")
    seeds.add_argument("--n", type=int, default=20, help="number of seeds (default 20)")
    seeds.add_argument(
        "--record",
        action="store_true",
        help="store the measured tolerances in tests/tolerances/ and the table in docs/seeds.md",
    )
    seeds.add_argument(
        "--resume",
        action="store_true",
        help="reuse a seed's saved run (build/seeds/<notebook>/seed-N.ipynb) when it was "
        "executed from the current code, instead of executing it again",
    )
    seeds.add_argument(
        "--held-out",
        type=int,
        default=None,
        metavar="K",
        help="after measuring, validate K further seeds against the measured tolerances; a "
        "recording is stored only if they pass (default 3 with --record, else 0)",
    )
    seeds.add_argument(
        "--validate",
        type=int,
        default=None,
        metavar="K",
        help="measure nothing: validate the recorded tolerances on K seeds they were not "
        "measured from, and store the result in the tolerance file",
    )
    seeds.set_defaults(func=_cmd_seeds)

    refs = sub.add_parser(
        "references",
        help="record the long-run references of the exercise checks (lessons whose check "
        "module declares REFERENCES; all by default)",
    )
    _names(refs, "notebooks", "lessons")
    refs.add_argument(
        "--draws",
        type=_positive_int,
        default=None,
        help="draws per chain of each long run (default: course_utils.tools.references.DRAWS)",
    )
    refs.add_argument(
        "--check",
        action="store_true",
        help="sample nothing: say whether each recorded file belongs to the lesson's current code",
    )
    refs.set_defaults(func=_cmd_references)

    validate = sub.add_parser(
        "validate",
        help="re-execute notebooks and compare them with their committed outputs, as the "
        "test suite does, naming every changed number (the author's loop)",
    )
    _names(validate, "notebooks", "notebooks")
    validate.set_defaults(func=_cmd_validate)

    bench = sub.add_parser(
        "bench", help="measure notebook run times and sampling efficiency (prints tables)"
    )
    _names(bench, "notebooks", "notebooks")
    bench.add_argument(
        "--quick",
        action="store_true",
        help="warm cache only, no reparameterization comparison (checks that it works)",
    )
    bench.add_argument(
        "--backends",
        nargs="+",
        default=(),
        metavar="NAME",
        help="also re-sample each lesson's final model with these NUTS backends "
        "(nutpie, numpyro) and compare them with PyMC's",
    )
    bench.add_argument("--out", help="output folder (default build/bench)")
    bench.add_argument(
        "--record",
        action="store_true",
        help="keep the measured tables in docs/benchmark/ (CSV) and write their rendering to "
        "docs/benchmark.md, the README and the sizing table of docs/teaching.md",
    )
    bench.set_defaults(func=_cmd_bench)

    deck = sub.add_parser(
        "slides", help="render the slide decks to offline reveal.js HTML and PDF handouts"
    )
    _names(deck, "decks", "decks")
    deck.add_argument(
        "--no-pdf", action="store_true", help="only the HTML slides (no browser needed)"
    )
    _executed_option(deck)
    deck.add_argument("--out", help="output folder (default build/slides)")
    deck.set_defaults(func=_cmd_slides)

    site = sub.add_parser(
        "site", help="build the course website into build/site/ (from executed notebooks)"
    )
    _executed_option(site)
    site.add_argument(
        "--student",
        metavar="DIR",
        help="folder of student editions to link from each lesson (e.g. build/student)",
    )
    site.add_argument(
        "--slides",
        metavar="DIR",
        help="folder of rendered slides to link from each page (e.g. build/slides)",
    )
    site.add_argument(
        "--serve",
        nargs="?",
        const=8000,
        type=int,
        metavar="PORT",
        help="then serve it on http://127.0.0.1:PORT/ (default 8000) until Ctrl-C",
    )
    site.add_argument(
        "--serve-only", action="store_true", help="serve the site already built, do not rebuild"
    )
    site.add_argument("--out", help="output folder (default build/site)")
    site.set_defaults(func=_cmd_site)

    edition = sub.add_parser("student", help="write student editions (solutions removed)")
    _names(edition, "notebooks", "lessons")
    _executed_option(edition)
    edition.add_argument("--out", help="output folder (default build/student)")
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
        Exit status: 0 on success, 1 when a seed or a deck failed, 2 when a dataset, an
        argument or a file is wrong.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        print(f"course {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
