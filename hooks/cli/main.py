"""The ``notes`` command: scaffold notes and concept pages, list orphans, check pages, run demos, export the site.
Same core as the build (hooks.site)."""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from hooks.problems import LocatedError


def project_root() -> Path:
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


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of processes") from None
    if value < 0:
        raise argparse.ArgumentTypeError("the number of processes must be 0 (one per core) or more")
    return value


DESCRIPTION = ("Write and publish the knowledge base: start a dated note, today's note or a concept page, "
               "list what links nothing, check every page as the build does, run the demos, or export the site "
               "as plain Markdown for another generator.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="notes", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)

    concept_help = ("a concept to link (repeatable); a name no concept page has (by title, alias or file name) "
                    "is linked all the same, with a warning")
    p_new = sub.add_parser("new", help="write docs/notes/DATE-slug.md from a template; prints its path",
                           description="Write docs/notes/DATE-slug.md from a template and print its path; never overwrites a file.")
    p_new.add_argument("title")
    p_new.add_argument("--date", type=_date, default=None, help="YYYY-MM-DD (default: today)")
    p_new.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    p_new.add_argument("--concept", action="append", default=[], help=concept_help)

    p_today = sub.add_parser("today", help="print the path of today's note, writing it first when there is none",
                             description="Print the path of today's note (docs/notes/TODAY-*.md); when there is none, "
                                         "write one titled 'Notes of TODAY' first.")
    p_today.add_argument("--title", default=None, help="the title of a new note (default: 'Notes of YYYY-MM-DD')")
    p_today.add_argument("--tag", action="append", default=[], help="a tag of a new note (repeatable)")
    p_today.add_argument("--concept", action="append", default=[], help=concept_help)

    p_concept = sub.add_parser("concept", help="write docs/concepts/SLUG.md from a template; prints its path",
                               description="Write docs/concepts/SLUG.md from a template and print its path; refuses a "
                                           "name, file name or alias that a concept (or another page's title or alias) "
                                           "already has, and never overwrites a file.")
    p_concept.add_argument("name", metavar="NAME", help="the concept's title")
    p_concept.add_argument("--alias", action="append", default=[], help="another name wikilinks may use (repeatable)")
    p_concept.add_argument("--tag", action="append", default=[], help="a tag besides 'concept' (repeatable)")

    p_orphans = sub.add_parser("orphans", help="list the notes that link no concept and the concepts no note links",
                               description="List the published notes that link no concept page and the concept pages "
                                           "no note links to: a heading with the count, then one file a line, for each.")
    p_orphans.add_argument("--json", action="store_true", help="print the same as JSON")

    p_check = sub.add_parser("check", help="validate every page as the build does; one line per problem",
                             description="Validate every page as the build does and print one line per problem "
                                         "(path:line: message); exit 1 when there is any.")
    p_check.add_argument("paths", nargs="*", metavar="PATH",
                         help="only print the problems of these files or folders (the whole site is read all the same)")
    p_check.add_argument("--json", action="store_true", help="print the problems as a JSON list of {path, line, message, severity}")
    p_check.add_argument("--fidelity", action="store_true",
                         help="instead, compare every page's blocks with Obsidian's reading view (CommonMark, by markdown-it-py); "
                              "one line per page that differs, at its first differing block")

    p_demos = sub.add_parser("demos", help="run demos through the build's cache")
    p_demos.add_argument("names", nargs="*", metavar="NAME", help="demos to run (default: all)")
    p_demos.add_argument("--force", action="store_true", help="run even when cached")
    p_demos.add_argument("--jobs", type=_jobs, default=None, help="parallel processes (default: one per core)")
    p_demos.add_argument("--device", default=None, help="auto, cpu or cuda")
    p_demos.add_argument("--pull", action="store_true", help="fetch the planned runs missing here from the remote cache (runs nothing)")
    p_demos.add_argument("--push", action="store_true", help="upload the planned runs the remote cache lacks (runs nothing)")

    p_export = sub.add_parser("export", help="write the whole site as plain Markdown and files into DIR, for any generator")
    p_export.add_argument("dir", type=Path, metavar="DIR", help="the folder to write (created; only its own files are ever replaced)")
    p_export.add_argument("--strict", action="store_true", help="stop on warnings and failed demo runs, as mkdocs build --strict")
    p_export.add_argument("--for", dest="flavour", choices=("mkdocs", "zensical"), default="mkdocs",
                          help="the generator that will read DIR: mkdocs (also ProperDocs; the default) or zensical, "
                               "which reads relative URLs in raw HTML as relative to the Markdown file")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    root = project_root()
    try:
        if args.command == "demos":
            from hooks.cli.demos import cmd_demos

            return cmd_demos(root, args.names, args.force, args.jobs, args.device, pull=args.pull, push=args.push)
        if args.command == "new":
            from hooks.cli.new import cmd_new

            return cmd_new(root, args.title, args.date, args.tag, args.concept)
        if args.command == "today":
            from hooks.cli.new import cmd_today

            return cmd_today(root, args.title, args.tag, args.concept)
        if args.command == "concept":
            from hooks.cli.new import cmd_concept

            return cmd_concept(root, args.name, args.alias, args.tag)
        if args.command == "orphans":
            from hooks.cli.orphans import cmd_orphans

            return cmd_orphans(root, as_json=args.json)
        if args.command == "check":
            from hooks.cli.check import cmd_check

            return cmd_check(root, fidelity=args.fidelity, paths=args.paths, as_json=args.json)
        if args.command == "export":
            from hooks.cli.export import cmd_export

            return cmd_export(root, Path.cwd() / args.dir, strict=args.strict, flavour=args.flavour)
    except LocatedError as exc:  # a bad setting: one line naming the file and line
        print(f"notes {args.command}: {exc}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
