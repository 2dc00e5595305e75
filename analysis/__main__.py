"""Command line: ``python -m analysis COMMAND``.

  validate [PATH ...]   check the data; exit 0 valid, 1 invalid (full report), 2 usage error
  adam --out DIR        write ADSL and ADTTE (CSV and SAS transport)
  simulate              regenerate the shipped synthetic cohort in data/synthetic/
  numbers [--json]      print the numbers registry (every statistic the manuscript quotes)
  variables             write _variables.yml for Quarto's {{< var >}} (front matter numbers)
  export --out DIR      numbers ledger (numbers.json), ADaM exports and figures (PDF, SVG, TIFF)
  diff OLD NEW [--out F] every number changed between two ledgers; exit 0 none, 1 some, 2 unreadable
  prepare               Quarto pre-render step: _variables.yml and the synthetic-data banners
  calibrate             search the synthetic cohort's survival-time factors (slow; prints them)

With no PATH, the configured data are used (analysis.yml, or CART_DATA).
Data errors print the report and exit 1 with no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .config import ConfigError, Config, load_config, sources_from_override


def _config(args) -> Config:
    cfg = load_config(args.config)
    paths = getattr(args, "paths", None)
    if paths:
        sources = tuple(s for p in paths for s in sources_from_override(p))
        cfg = Config(path=cfg.path, sources=sources, dictionary_path=cfg.dictionary_path, settings=cfg.settings)
    return cfg


def cmd_validate(args) -> int:
    from .dictionary import load_dictionary
    from .load import load_sources
    from .validate import validate

    cfg = _config(args)
    dictionary = load_dictionary(cfg.dictionary_path)
    report = validate(load_sources(cfg.sources, dictionary), dictionary)
    print(report.format())
    return 0 if report.ok else 1


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

    registry = build_registry(run_analysis(_config(args)))
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

    return main_diff(args.old, args.new, out=args.out)


def cmd_bench(args) -> int:
    from .bench import main as bench_main

    return bench_main(args.rest)


def cmd_prepare(args) -> int:
    from .present.document import prepare

    for path in prepare():
        print(path)
    return 0


def cmd_calibrate(args) -> int:
    from .calibrate import calibrate

    model = calibrate(seed=args.seed, search_seed=args.search_seed, iterations=args.iterations, verbose=True)
    print(model)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=None, help="analysis configuration (default: analysis.yml)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="check the data against the dictionary")
    p.add_argument("paths", nargs="*", help="data files, folders or a YAML sources file")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("adam", help="write ADSL and ADTTE")
    p.add_argument("--out", required=True)
    p.add_argument("--no-xpt", action="store_true", help="CSV only")
    p.add_argument("paths", nargs="*")
    p.set_defaults(func=cmd_adam)
    p = sub.add_parser("simulate", help="regenerate the synthetic cohort")
    p.add_argument("--out", default=None)
    p.set_defaults(func=cmd_simulate)
    p = sub.add_parser("numbers", help="print the numbers registry")
    p.add_argument("--json", action="store_true")
    p.add_argument("paths", nargs="*")
    p.set_defaults(func=cmd_numbers)
    p = sub.add_parser("variables", help="write _variables.yml for Quarto")
    p.add_argument("--out", default="_variables.yml")
    p.set_defaults(func=cmd_variables)
    p = sub.add_parser("export", help="numbers ledger, ADaM exports and submission figures into --out")
    p.add_argument("--out", default="_output")
    p.add_argument("paths", nargs="*")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("diff", help="numbers that changed between two ledgers (exit 1 if any)")
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--out", default=None, help="also write the table as .md or .html")
    p.set_defaults(func=cmd_diff)
    p = sub.add_parser("bench", help="benchmark at registry scale (see analysis/bench.py --help)",
                       add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser("prepare", help="pre-render step: _variables.yml and synthetic-data banners")
    p.set_defaults(func=cmd_prepare)
    p = sub.add_parser("calibrate", help="calibrate the synthetic cohort (slow)")
    p.add_argument("--seed", type=int, default=None, help="start afresh from this simulation seed")
    p.add_argument("--search-seed", type=int, default=0)
    p.add_argument("--iterations", type=int, default=3000)
    p.set_defaults(func=cmd_calibrate)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "bench":  # its own options start with "-", which argparse.REMAINDER refuses
        from .bench import main as bench_main

        return bench_main(argv[1:])
    args = parser.parse_args(argv)

    from .pipeline import DataError

    try:
        return args.func(args)
    except DataError as exc:
        print(exc.report.format())
        return 1
    except ConfigError as exc:
        print(f"Configuration problem: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
