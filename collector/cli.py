"""`fakeboxer` command line. Setting errors are one line and exit 2; a database that
cannot be opened is one line and exit 1; tracebacks only with --debug."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from collector.settings import (
    SettingError,
    Settings,
    env_of,
    flag_of,
    load_settings,
    setting_fields,
)

EXIT_BAD_SETTING = 2
EXIT_CANNOT_START = 1


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_SETTING, f"fakeboxer: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fakeboxer", description="A local, offline LeadBoxer.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = commands.add_parser(
        "serve",
        help="run the collector, pixel, read API and control endpoints",
        description="Run fakeboxer. Every option can also be set by its environment "
        "variable; a flag wins over the variable.",
    )
    for f in setting_fields():
        kwargs: dict[str, Any] = {
            "dest": f.name,
            "metavar": f.metadata["metavar"] or "VALUE",
            "help": f"{f.metadata['help']} [env {env_of(f)}; default {_show_default(f.default)}]",
        }
        if f.metadata["repeatable"]:
            kwargs["action"] = "append"
        elif f.type in ("bool", bool):
            kwargs["nargs"] = "?"
            kwargs["const"] = "true"
            kwargs["metavar"] = "BOOL"
        serve.add_argument(flag_of(f), **kwargs)
    from collector import simulate

    simulate.add_parser(commands)
    return parser


def _show_default(value: Any) -> str:
    if value in ((), None):
        return "none"
    return str(value)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "simulate":  # its own options; its --db is not the server's
        from collector import simulate

        return simulate.run(args)
    flags = {f.name: getattr(args, f.name, None) for f in setting_fields()}
    try:
        settings = load_settings(flags)
    except SettingError as exc:
        print(f"fakeboxer: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTING
    if args.command == "serve":
        return serve(settings)
    return EXIT_BAD_SETTING  # pragma: no cover - argparse requires a command


def serve(settings: Settings) -> int:
    import uvicorn

    from collector.app import create_app
    from collector.storage.db import Store, StoreOpenError

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        store = Store(settings.db, settings.db_memory_mb)
    except StoreOpenError as exc:
        print(f"fakeboxer: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START
    try:
        app = create_app(settings, store, settle_gc=True)
    except Exception as exc:
        store.close()
        if settings.debug:
            raise
        print(f"fakeboxer: cannot start: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START
    url = f"http://{settings.host}:{settings.port}"
    print(f"fakeboxer listening on {url}  (database {settings.db})", flush=True)
    for key in app.web.state.api_keys:
        print(f"  API key:      {key.describe()}", flush=True)
    print(
        f"  send a hit:   curl '{url}/?si=demo&ti=Hello&email=ada@example.com&json=true'",
        flush=True,
    )
    print(f"  see events:   curl '{url}/_fakeboxer/events?site=demo'", flush=True)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http="httptools",
        loop="uvloop",
        lifespan="on",
        access_log=False,
        log_level=settings.log_level,
        timeout_graceful_shutdown=30,
    )
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        store.close()
        print(
            f"fakeboxer: could not start the server on {url} (is the port in use?)", file=sys.stderr
        )
        return EXIT_CANNOT_START
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
