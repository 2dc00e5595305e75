"""Command line of the manuscript generator (console script cart-manuscript, or python -m analysis).

Run "cart-manuscript COMMAND --help" for what each command does and takes.
Works from any folder: the project is the one this package belongs to, or the
one named by --project; the configuration is --config, else CART_CONFIG, else
analysis.yml in the project; the data are the configuration's, or CART_DATA.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import dataclasses

from .config import ConfigError, Config, load_config, sources_from_override


def _config(args) -> Config:
    paths = getattr(args, "paths", None)
    # data named on the command line replace the configured sources (which then need not exist)
    cfg = load_config(args.config, data=paths[0] if paths else None)
    if paths and len(paths) > 1:
        cfg = dataclasses.replace(cfg, sources=tuple(s for p in paths for s in sources_from_override(p)))
    return cfg


def _folder_argument(value: str) -> Path:
    """``--out DIR``: a folder that exists or can be made (no file in the way); not empty
    (``--out "$OUT"`` with OUT unset would write into the working folder)."""
    if not value.strip():
        raise argparse.ArgumentTypeError("the folder name is empty (is a variable such as $OUT unset?)")
    path = Path(value).expanduser()
    for place in (path, *path.parents):
        if place.is_dir():
            return path
        if place.exists():
            what = "is a file" if place == path else f"cannot be made: {place} is a file"
            raise argparse.ArgumentTypeError(f"{value} {what}, not a folder")
    return path


def _file_argument(value: str) -> Path:
    """``--out FILE``: a file to write (not a folder; no file in the way of its folder)."""
    if not value.strip():
        raise argparse.ArgumentTypeError("the file name is empty (is a variable such as $OUT unset?)")
    path = Path(value).expanduser()
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a folder; give the name of the file to write")
    _folder_argument(str(path.parent))
    return path


def cmd_validate(args) -> int:
    from .dictionary import load_dictionary
    from .load import load_sources
    from .validate import validate

    from .present.labels import covariate_name

    cfg = _config(args)
    dictionary = load_dictionary(cfg.dictionary_path)
    covariates = {c.column: covariate_name(c.column) for c in cfg.settings.cox.covariates}
    report = validate(load_sources(cfg.sources, dictionary), dictionary, covariates=covariates)
    print(report.format())
    return report.exit_code


def cmd_adam(args) -> int:
    from .adam import write_adam
    from .pipeline import load_cohort

    cohort = load_cohort(_config(args))
    for path in write_adam(cohort.derived, args.out, xpt=not args.no_xpt):
        print(path)
    return 0


def cmd_simulate(args) -> int:
    from .simulate import SYNTHETIC_DIR, write_synthetic

    out = Path(args.out) if args.out else SYNTHETIC_DIR
    for path in write_synthetic(out):
        print(path)
    return 0


def cmd_numbers(args) -> int:
    from .present.numbers import build_registry
    from .results import run_analysis

    from .present.exclusions import say_model_warnings

    results = run_analysis(_config(args))
    registry = build_registry(results)
    say_model_warnings(results)
    if args.json:
        json.dump(registry.raw(), sys.stdout, indent=2, default=float)
        print()
    else:
        for section, key, number in registry.items():
            print(f"{section}.{key}\t{number.text}")
    return 0


def cmd_variables(args) -> int:
    from .present.numbers import build_registry
    from .results import run_analysis

    path = build_registry(run_analysis(_config(args))).write_variables(Path(args.out))
    print(path)
    return 0


def cmd_export(args) -> int:
    from .export import export

    for path in export(Path(args.out), _config(args)):
        print(path)
    return 0


def cmd_diff(args) -> int:
    from .ledger import main_diff

    return main_diff(args.old, args.new, out=args.out, detail=args.detail, markup=args.markup)


def cmd_bench(args) -> int:
    from .bench import main as bench_main

    return bench_main(args.rest)


def cmd_prepare(args) -> int:
    from .present.document import prepare

    for path in prepare(config=args.config, background=True):
        print(path)
    return 0


def cmd_settings(args) -> int:
    from .config import describe_settings

    cfg = load_config(args.config)
    print(f"Configuration {cfg.path}: valid.\n")
    for key, kind, default, description in describe_settings():
        print(f"{key}  ({kind}; default {default})\n    {description}")
    return 0


def cmd_calibrate(args) -> int:
    from .calibrate import calibrate

    model = calibrate(seed=args.seed, search_seed=args.search_seed, iterations=args.iterations, verbose=True)
    print(model)
    return 0


EPILOG = """\
environment variables:
  CART_DATA    data to analyse instead of the configuration's: a data file
               (.csv, .xlsx, .xls, .sav), a folder of them, or a YAML file
               with a 'sources:' list
  CART_CONFIG  configuration file to use instead of analysis.yml
               (--config takes precedence)

exit codes:
  0  done
  1  the data have problems (the full report is printed; nothing is written)
  2  usage or configuration problem (unknown option, missing file or setting,
     an output folder that cannot be written)
"""

#: diff's own exit codes (1 is "numbers changed", not "the data have problems")
DIFF_EPILOG = EPILOG.split("exit codes:")[0] + """exit codes:
  0  no number changed
  1  some numbers changed (listed)
  2  usage or configuration problem, or a ledger cannot be read
"""

COMMANDS = {
    # name: (one-line help, description)
    "validate": ("check the data against the dictionary",
                 "Check every input file against the data dictionary and print one report of all problems\n"
                 "(file, row, patient and column of each). Exit 0 if the data are valid, 1 if not, 2 if a mapping\n"
                 "file or the sources list is wrong (named with its line)."),
    "adam": ("write the ADaM datasets ADSL and ADTTE",
             "Write ADSL and ADTTE as CSV and SAS transport version 5 (.xpt), with define.csv (variable\n"
             "labels, types, codelists and derivations), sorted by STUDYID, USUBJID (, PARAMCD)."),
    "simulate": ("regenerate the shipped synthetic cohort",
                 "Regenerate the synthetic cohort (byte-identical for the same code) into data/synthetic/\n"
                 "or --out."),
    "numbers": ("print every statistic the manuscript quotes",
                "Print the numbers registry: every statistic the manuscript quotes, one 'section.key<TAB>text'\n"
                "line each, or the raw values as JSON."),
    "variables": ("write _variables.yml for Quarto",
                  "Write the front-matter numbers as a Quarto variables file (read by {{< var NAME >}})."),
    "export": ("write numbers ledger, ADaM datasets, figures and tables",
               "Write into --out: numbers.json (every quoted number with the hashes of data, configuration\n"
               "and code), adam/ (ADSL, ADTTE, define.csv), figures/ (PDF, SVG, TIFF) and tables/ (every\n"
               "manuscript and supplementary table as .docx, .xlsx, .csv and .html)."),
    "diff": ("list the numbers that changed between two ledgers",
             "Compare two numbers.json ledgers and list every number that changed. Exit 0 if none changed,\n"
             "1 if some did, 2 if a ledger cannot be read."),
    "bench": ("benchmark at registry scale (developer tool)",
              "Time and measure memory of each stage on synthetic registries; see its own --help."),
    "prepare": ("Quarto pre-render step",
                "Write _variables.yml and the synthetic-data banners that the documents read (Quarto runs\n"
                "this before rendering)."),
    "settings": ("check the configuration and list every setting",
                 "Check the configuration file (every problem at once, exit 2 if any) and list every setting\n"
                 "with its type, default and description (analysis/config.py defines them)."),
    "calibrate": ("re-search the synthetic cohort's time factors (slow)",
                  "Search the synthetic cohort's survival-time factors so that it reproduces the published\n"
                  "aggregates; prints the model (slow)."),
}


def _prog() -> str:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return "cart-manuscript" if name.startswith("cart-manuscript") else "python -m analysis"


def _common(*, suppress: bool) -> argparse.ArgumentParser:
    """--config and --project, accepted before or after the command."""
    default = argparse.SUPPRESS if suppress else None
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("project options")
    group.add_argument("--config", metavar="FILE", default=default,
                       help="analysis configuration file (default: CART_CONFIG, else analysis.yml in the project)")
    group.add_argument("--project", metavar="DIR", default=default,
                       help="project folder whose analysis.yml to use, before CART_CONFIG (default: the "
                            "project this program belongs to)")
    return common


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: every command and argument with its help."""
    prog = prog or _prog()
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.strip(), epilog=EPILOG, formatter_class=fmt,
                                     parents=[_common(suppress=False)])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                title="commands", help="one of:")
    common = _common(suppress=True)

    def add(name: str, func, **kwargs) -> argparse.ArgumentParser:
        short, long = COMMANDS[name]
        p = sub.add_parser(name, help=short, description=long, epilog=DIFF_EPILOG if name == "diff" else EPILOG,
                           formatter_class=fmt,
                           parents=[common], **kwargs)
        p.set_defaults(func=func)
        return p

    paths_help = "data files, folders of data files or a YAML sources file (default: the configured data)"
    p = add("validate", cmd_validate)
    p.add_argument("paths", nargs="*", metavar="PATH", help=paths_help)
    p = add("adam", cmd_adam)
    p.add_argument("--out", required=True, type=_folder_argument, metavar="DIR",
                   help="folder to write the datasets into")
    p.add_argument("--no-xpt", action="store_true", help="CSV only (no SAS transport files)")
    p.add_argument("paths", nargs="*", metavar="PATH", help=paths_help)
    p = add("simulate", cmd_simulate)
    p.add_argument("--out", default=None, type=_folder_argument, metavar="DIR",
                   help="folder to write into (default: data/synthetic/)")
    p = add("numbers", cmd_numbers)
    p.add_argument("--json", action="store_true", help="print the raw values as JSON instead of the texts")
    p.add_argument("paths", nargs="*", metavar="PATH", help=paths_help)
    p = add("variables", cmd_variables)
    p.add_argument("--out", default="_variables.yml", type=_file_argument, metavar="FILE",
                   help="file to write (default: _variables.yml)")
    p = add("export", cmd_export)
    p.add_argument("--out", default="_output", type=_folder_argument, metavar="DIR",
                   help="folder to write into (default: _output)")
    p.add_argument("paths", nargs="*", metavar="PATH", help=paths_help)
    p = add("diff", cmd_diff)
    p.add_argument("old", metavar="OLD", help="the earlier ledger (numbers.json)")
    p.add_argument("new", metavar="NEW", help="the later ledger (numbers.json)")
    p.add_argument("--out", default=None, type=_file_argument, metavar="FILE",
                   help="also write the table of changes as .md, .html or .docx (Word, for the response letter)")
    p.add_argument("--detail", action="store_true", help="also print every changed ledger key")
    p.add_argument("--markup", action="append", default=[], metavar="DOC.md",
                   help="executed Markdown of a document to mark up with the changed numbers (repeatable)")
    p = add("bench", cmd_bench, add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER, help="the benchmark's own options (see bench --help)")
    add("prepare", cmd_prepare)
    add("settings", cmd_settings)
    p = add("calibrate", cmd_calibrate)
    p.add_argument("--seed", type=int, default=None, metavar="N", help="start afresh from this simulation seed")
    p.add_argument("--search-seed", type=int, default=0, metavar="N",
                   help="seed of the random search (default: 0)")
    p.add_argument("--iterations", type=int, default=3000, metavar="N",
                   help="iterations of the search (default: 3000)")
    return parser


def _apply_project(args, parser: argparse.ArgumentParser) -> None:
    """--project DIR: use DIR/analysis.yml (before CART_CONFIG; --config before both)."""
    project = getattr(args, "project", None)
    if not project:
        return
    folder = Path(project).expanduser().resolve()
    config = folder / "analysis.yml"
    if not config.is_file():
        parser.exit(2, f"{parser.prog}: error: --project {project}: no analysis.yml in {folder}\n")
    if not getattr(args, "config", None):
        args.config = str(config)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "bench":  # its own options start with "-", which argparse.REMAINDER refuses
        from .bench import main as bench_main

        return bench_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "config"):
        args.config = None
    _apply_project(args, parser)

    from .pipeline import DataError

    try:
        return args.func(args)
    except DataError as exc:
        print(exc.report.format())
        return exc.report.exit_code
    except RuntimeError as exc:          # the manuscript would contradict itself: the check's own
        checks = sys.modules.get(f"{__package__}.present.consistency")    # sentences, no traceback
        if checks is None or not isinstance(exc, checks.InconsistencyError):
            raise
        print(exc, file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"Configuration problem: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:          # output piped into `head` or a pager that closed early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:           # a folder not writable, a disk full ...: the file and why, no traceback
        where = exc.filename if exc.filename is not None else "a file"
        print(f"Could not write or read {where}: {exc.strerror or exc}.\n"
              "Hint: check that the folder exists, that you may write there and that the disk has room "
              "(--out chooses where the outputs go).", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
