"""`openbeat`: the command line. Parses arguments and calls the services; nothing else.

Every failure a user can cause (a missing file, a bad mapping, no broker) ends as one line on
stderr and a non-zero exit, never a traceback; OPENBEAT_LOG_LEVEL=DEBUG shows the traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from openbeat import __version__
from openbeat.runtime.settings import CommonSettings, describe_settings_error

logger = logging.getLogger("openbeat")

SERVICES = ("anonymizer", "aggregator", "publisher", "alerter")


class UsageError(Exception):
    """A mistake the user can fix; the message says how."""


def _env_help() -> str:
    lines = ["configuration (environment variables):"]
    for name, info in CommonSettings.model_fields.items():
        lines.append(f"  OPENBEAT_{name.upper():<22} {info.description}")
    from openbeat.runtime.settings import (
        AlerterSettings,
        AnonymizerSettings,
        EmitSettings,
        PublishSettings,
    )

    seen = set(CommonSettings.model_fields)
    for cls in (EmitSettings, AnonymizerSettings, PublishSettings, AlerterSettings):
        for name, info in cls.model_fields.items():
            if name not in seen:
                seen.add(name)
                lines.append(f"  OPENBEAT_{name.upper():<22} {info.description}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openbeat",
        description="Event-driven open-data publishing for public safety and community engagement.",
        epilog=_env_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"openbeat {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run services (all by default)")
    run.add_argument(
        "services", nargs="*", metavar="SERVICE", help=f"one or more of: {', '.join(SERVICES)}"
    )
    run.add_argument(
        "--until-idle",
        action="store_true",
        help="exit 0 once every input partition is consumed and output is durable",
    )
    run.add_argument(
        "--instance",
        default=None,
        help="instance id, unique per running copy (default: OPENBEAT_INSTANCE_ID or 0)",
    )

    emit = sub.add_parser("emit", help="send sample events or import an agency export")
    emit.add_argument("file", nargs="?", help="CSV or JSON Lines file to import")
    emit.add_argument("--sample", type=int, metavar="N", help="emit N synthetic events")
    emit.add_argument("--seed", type=int, default=1, help="seed of the sample (default 1)")
    emit.add_argument(
        "--kind", choices=["incident", "report", "engagement"], help="what the file holds"
    )
    emit.add_argument("--mapping", help="column mapping file (TOML); see infra/mappings/")
    emit.add_argument(
        "--rejects",
        help="write rejected rows (line, reason) to this new file; an existing path is refused",
    )
    emit.add_argument(
        "--dry-run",
        action="store_true",
        help="map, group and validate the whole file and print the counts; send nothing",
    )
    emit.add_argument(
        "--max-reject-rate",
        type=float,
        metavar="R",
        help="exit non-zero when more than this share (0-1) of the rows is rejected",
    )
    emit.add_argument("--no-progress", action="store_true", help="no progress bar")

    release = sub.add_parser("release", help="cut an open-data release")
    release.add_argument("--dataset", action="append", help="dataset (repeatable; default all)")
    release.add_argument("--cutoff", help="ISO-8601 UTC cutoff (default now)")
    release.add_argument(
        "--allow-shrink",
        action="store_true",
        help="publish a release with fewer rows than the current one (more than withdrawals "
        "explain), or one cut from an empty private store; refused otherwise",
    )

    verify = sub.add_parser(
        "verify",
        help="check a published tree (names against OPENBEAT_JURISDICTION's registry); "
        "non-zero exit on any problem",
    )
    verify.add_argument("root", help="a folder or s3://bucket/prefix")
    verify.add_argument("--names", help="file of names (one per line) that must not appear")
    verify.add_argument(
        "--previous",
        metavar="RELEASE",
        help="a release id: every later release is also compared with the release before it "
        "(sealed figures unchanged, withdrawn ids were public)",
    )

    serve = sub.add_parser("serve", help="preview the public site and data in a browser")
    serve.add_argument("root", nargs="?", help="the public root folder (default OPENBEAT_STORE)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks one)")
    serve.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")

    site = sub.add_parser("site", help="rebuild the transparency site from the public store")
    site.add_argument("root", nargs="?", help="a folder or s3://bucket/prefix (default store)")

    topics = sub.add_parser("topics", help="manage Kafka topics")
    topics_sub = topics.add_subparsers(dest="topics_command", required=True, metavar="ACTION")
    topics_sub.add_parser("apply", help="create missing topics and report drift (idempotent)")
    return parser


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # kafka-python logs every connection attempt, and each refused one as an ERROR; the CLI says
    # what went wrong in one line instead, so its chatter is only shown when debugging.
    debug = logging.getLogger().level <= logging.DEBUG
    logging.getLogger("kafka").setLevel(logging.DEBUG if debug else logging.CRITICAL)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "topics":
        from openbeat.runtime.commands import topics_apply

        return topics_apply()
    if args.command == "emit":
        from openbeat.emit.command import emit_command

        if (args.sample is None) == (args.file is None):
            raise UsageError("give either --sample N or a FILE to import (with --kind)")
        return emit_command(args)
    if args.command == "run":
        from openbeat.runtime.commands import run_services

        unknown = sorted(set(args.services) - set(SERVICES))
        if unknown:
            raise UsageError(f"unknown service {unknown[0]!r}: choose from {', '.join(SERVICES)}")
        return run_services(args.services or None, args.until_idle, args.instance)
    if args.command == "release":
        from openbeat.runtime.commands import release_command

        return release_command(args.dataset, args.cutoff, args.allow_shrink)
    if args.command == "verify":
        from openbeat.runtime.commands import verify_command

        return verify_command(args.root, args.names, args.previous)
    if args.command == "serve":
        from pathlib import Path

        from openbeat.site.serve import serve

        if args.root is None and "://" in CommonSettings().store:
            raise UsageError("OPENBEAT_STORE is not a folder: give the public root folder to serve")
        return serve(Path(args.root or CommonSettings().store), args.host, args.port)
    if args.command == "site":
        from openbeat.runtime.commands import site_command

        return site_command(args.root)
    raise UsageError(f"unknown command {args.command}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = CommonSettings()
    except ValidationError as exc:
        print(f"openbeat: error: {describe_settings_error(exc)}", file=sys.stderr)
        return 2
    _setup_logging(settings.log_level)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the one place every error becomes a single line
        from openbeat.runtime.errors import describe_error

        logger.debug("failed", exc_info=True)
        print(f"openbeat: error: {describe_error(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
