"""``hepatorisk cohort``: generate, build and describe cohorts."""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from hepatorisk.cohorts.kinds import PUBLIC_KINDS
from hepatorisk.exceptions import ConfigError

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cohort = sub.add_parser("cohort", help="generate, build or describe a cohort")
    actions = cohort.add_subparsers(dest="action", required=True, metavar="ACTION")

    gen = actions.add_parser(
        "generate",
        help="simulate the synthetic kratom-therapy cohort (with each patient's true risk)",
    )
    gen.add_argument("--patients", type=_positive_int, default=2000, help="number of patients")
    gen.add_argument("--seed", type=int, default=7, help="random seed (same seed, same cohort)")
    gen.add_argument("--out", type=Path, required=True, help="output folder for the Parquet tables")
    gen.add_argument(
        "--config",
        type=Path,
        default=None,
        help="YAML overriding the generator parameters (default: data/synthetic/generator.yaml)",
    )
    gen.add_argument("--weeks", type=_positive_int, default=None, help="weeks of follow-up (24)")
    gen.add_argument(
        "--scenario",
        choices=("low", "central", "high"),
        default=None,
        help="kratom's uncertain liver harm and relapse benefit (default: central; "
        "data/synthetic/generator.yaml kratom_effects gives each scenario's evidence)",
    )
    gen.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS|local",
        help="write partitioned Parquet (one part per chunk), the chunks made on Dask: 'local' "
        "starts a LocalCluster, an address (tcp://host:8786) uses a running scheduler whose "
        "workers can write --out; 'none' makes the parts here, one after another",
    )
    gen.add_argument(
        "--workers", type=_positive_int, default=None, help="LocalCluster workers (default 2)"
    )
    gen.add_argument(
        "--chunk-size",
        type=_positive_int,
        default=None,
        help="patients per chunk (default 20000; bounds each worker's memory; part of the seed: "
        "another chunk size is another cohort)",
    )
    gen.set_defaults(handler=_generate)

    build = actions.add_parser(
        "build",
        help=f"build a real public cohort ({', '.join(PUBLIC_KINDS)}) from its vendored files",
    )
    build.add_argument("name", choices=PUBLIC_KINDS, help="public cohort to build")
    build.add_argument("--out", type=Path, required=True, help="output folder for the tables")
    build.add_argument(
        "--source",
        type=Path,
        default=None,
        help="folder of the published files (default: data/public/<name> of this checkout)",
    )
    build.set_defaults(handler=_build)

    desc = actions.add_parser(
        "describe", help="Table 1 and the published calibration targets of a cohort folder"
    )
    desc.add_argument("directory", type=Path, help="folder written by 'cohort generate'")
    desc.add_argument("--json", type=Path, default=None, help="also write the numbers as JSON")
    desc.set_defaults(handler=_describe)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _generate(args: argparse.Namespace) -> int:
    from hepatorisk.cohorts.synthetic import generate_cohort, load_generator_config
    from hepatorisk.cohorts.synthetic.generate import CHUNK_SIZE, generate_partitioned

    config = load_generator_config(args.config, weeks=args.weeks, scenario=args.scenario)
    chunk_size = args.chunk_size or CHUNK_SIZE
    started = time.perf_counter()
    if args.scheduler in (None, "none") and args.workers is not None:
        raise ConfigError("--workers needs --scheduler local")
    if args.scheduler is None:
        generate_cohort(args.patients, seed=args.seed, config=config, chunk_size=chunk_size).write(
            args.out
        )
    elif args.scheduler == "none":
        generate_partitioned(
            args.patients, seed=args.seed, config=config, out=args.out, chunk_size=chunk_size
        )
    else:
        from hepatorisk.cluster import dask_client

        with dask_client(args.scheduler, args.workers) as client:
            generate_partitioned(
                args.patients,
                seed=args.seed,
                config=config,
                out=args.out,
                client=client,
                chunk_size=chunk_size,
            )
    log.info(
        "wrote %d patients x %d weeks to %s in %.1f s",
        args.patients,
        config.follow_up.weeks,
        args.out,
        time.perf_counter() - started,
    )
    return 0


def _build(args: argparse.Namespace) -> int:
    from hepatorisk.cohorts.public import build_public_cohort

    build_public_cohort(args.name, args.out, source=args.source)
    return 0


def _describe(args: argparse.Namespace) -> int:
    from hepatorisk.cohorts.describe import describe_cohort

    description = describe_cohort(args.directory)
    print(description.render())  # noqa: T201 - the table is the command's output
    if args.json is not None:
        args.json.write_text(json.dumps(description.to_dict(), indent=2))
    return 0
