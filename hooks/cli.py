"""The ``notes`` command: scaffold and check notes, run demos. Same core as the build."""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path


def _project_root() -> Path:
    """The folder holding mkdocs.yml: the current one or the nearest above it."""
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "mkdocs.yml").is_file():
            return folder
    raise SystemExit("notes: no mkdocs.yml here or above; run inside the knowledge base's folder")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; write YYYY-MM-DD") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="notes", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p_new = sub.add_parser("new", help="write docs/notes/DATE-slug.md from a template")
    p_new.add_argument("title")
    p_new.add_argument("--date", type=_date, default=None, help="YYYY-MM-DD (default: today)")
    p_new.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    p_new.add_argument("--concept", action="append", default=[], help="a concept to link (repeatable)")

    sub.add_parser("check", help="validate every note and concept page; one line per problem")

    p_demos = sub.add_parser("demos", help="run demos through the build's cache")
    p_demos.add_argument("names", nargs="*", metavar="NAME", help="demos to run (default: all)")
    p_demos.add_argument("--force", action="store_true", help="run even when cached")
    p_demos.add_argument("--jobs", type=int, default=None, help="parallel processes (default: one per core)")
    p_demos.add_argument("--device", default=None, help="auto, cpu or cuda")

    args = parser.parse_args(argv)
    root = _project_root()
    if args.command == "demos":
        from hooks.demos_cli import cmd_demos

        return cmd_demos(root, args.names, args.force, args.jobs, args.device)
    if args.command == "new":
        from hooks.site_cli import new_note

        try:
            path = new_note(root / "docs", args.title, args.date, args.tag, args.concept)
        except FileExistsError as exc:
            print(f"notes new: {exc.filename or exc} already exists; pick another title or date", file=sys.stderr)
            return 1
        print(path.relative_to(root) if path.is_relative_to(root) else path)
        return 0
    if args.command == "check":
        from hooks.directive import SpecCache, collect_refs
        from hooks.problems import errors
        from hooks.site_cli import check_site
        from hooks.sources import read_sources

        problems = list(check_site(root / "docs", root))
        _, demo_problems = collect_refs(read_sources(root / "docs", root), SpecCache(root / "demos"))
        problems = sorted(set(problems) | set(demo_problems))
        for p in problems:
            print(p)
        n_err = len(errors(problems))
        print(f"{len(problems)} problem(s), {n_err} error(s)", file=sys.stderr)
        return 1 if problems else 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
