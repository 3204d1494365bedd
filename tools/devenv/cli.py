"""``python -m tools.devenv COMMAND`` (from the repository root): the development set-up by hand.

A command that needs a package this Python lacks (``seed`` and ``requirements`` import Home
Assistant, ``token`` and ``ready-banner`` use aiohttp) runs itself again with the develop
environment's interpreter, or says how to make one.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tools import REPO

from .auth import create_long_lived_token, login, revoke
from .banner import Startup, ready_banner
from .config_dir import listener_ports, seed_config
from .defaults import (
    CONFIG_TEMPLATE,
    DEFAULT_HTTP_PORT,
    DEFAULT_LISTENER_PORT,
    DEFAULT_OPTIONS,
    DEV_PASSWORD,
    DEV_USERNAME,
)
from .entries import add_listener
from .logcheck import check_log
from .onboarding import onboard
from .process import port_status
from .readiness import wait_ready, wait_running
from .requirements import component_requirements, config_domains, integration_domains, lock
from .venv import develop_python

# Commands that import a package a plain system Python lacks (Debian's python3 has no aiohttp).
COMMAND_NEEDS = {
    "token": "aiohttp",
    "ready-banner": "aiohttp",
    "seed": "homeassistant",
    "requirements": "homeassistant",
}
REEXEC_MARK = "DEVENV_REEXECUTED"


def _run_where_it_can(command: str, argv: Sequence[str]) -> None:
    """Re-run this command with the develop environment's Python when this one lacks what the
    command imports; or say plainly what to do. Returns when this Python will do."""
    module = COMMAND_NEEDS.get(command)
    if module is None or importlib.util.find_spec(module) is not None:
        return
    python = develop_python()
    if python is None or os.environ.get(REEXEC_MARK):  # none, or it lacks the package too
        raise SystemExit(
            f"python -m tools.devenv {command} needs the Python package {module}, which "
            f"{sys.executable} does not have: run scripts/develop --bootstrap-only once (it "
            "creates .venvs/develop-latest), then run .venvs/develop-latest/bin/python -m "
            f"tools.devenv {command} …"
        )
    print(f"{sys.executable} has no {module}: running with {python}", file=sys.stderr)
    os.environ[REEXEC_MARK] = "1"
    path = os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH"))))
    env = {**os.environ, "PYTHONPATH": path}
    os.execve(python, [str(python), "-m", "tools.devenv", *argv], env)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.devenv",
        description="A real Home Assistant with this integration: set-up and checks.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("seed", help="prepare a config folder before its first start (idempotent)")
    p.add_argument("config_dir", type=Path)
    p.add_argument("--http-port", type=int, default=DEFAULT_HTTP_PORT)
    p.add_argument("--configuration", default=str(CONFIG_TEMPLATE), help="YAML to copy if none")

    for name in ("wait", "running"):
        p = sub.add_parser(name, help="wait until Home Assistant answers HTTP / has started")
        p.add_argument("url")
        p.add_argument("--timeout", type=float, default=600)

    for name in ("onboard", "login", "token"):
        p = sub.add_parser(name, help=f"{name} (user {DEV_USERNAME}/{DEV_PASSWORD} by default)")
        p.add_argument("url")
        p.add_argument("--username", default=DEV_USERNAME)
        p.add_argument("--password", default=DEV_PASSWORD)

    p = sub.add_parser("listener", help="add a listener entry through the config flow")
    p.add_argument("url")
    p.add_argument("--port", type=int, default=DEFAULT_LISTENER_PORT)
    p.add_argument("--no-tcp", action="store_true")
    p.add_argument("--no-udp", action="store_true")
    p.add_argument("--options", type=json.loads, default=DEFAULT_OPTIONS, help="options, JSON")

    p = sub.add_parser("check-log", help="list problem lines of home-assistant.log")
    p.add_argument("config_dir", type=Path)

    p = sub.add_parser("ports", help="listener port status")
    p.add_argument("--listener-port", type=int, default=DEFAULT_LISTENER_PORT)

    p = sub.add_parser("listener-ports", help="the listener ports stored in a config folder")
    p.add_argument("config_dir", type=Path)

    p = sub.add_parser("requirements", help="requirements of the configured components")
    p.add_argument("--configuration", type=Path, default=CONFIG_TEMPLATE)

    p = sub.add_parser("lock", help="regenerate a pinned requirements file")
    p.add_argument("--python", required=True)
    p.add_argument("--homeassistant", required=True)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument("--configuration", type=Path, default=CONFIG_TEMPLATE)

    p = sub.add_parser("ready-banner", help=argparse.SUPPRESS)  # scripts/develop's
    p.add_argument("url")
    p.add_argument("config_dir", type=Path)
    p.add_argument("--public-url", required=True)
    p.add_argument("--started-at", type=float, required=True)
    p.add_argument("--bootstrap-seconds", type=float, default=None)
    p.add_argument("--timeout", type=float, default=900)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    args = _parser().parse_args(argv)
    _run_where_it_can(args.command, sys.argv[1:] if argv is None else argv)
    match args.command:
        case "seed":
            seed_config(
                args.config_dir,
                http_port=args.http_port,
                configuration=Path(args.configuration) if args.configuration else None,
            )
        case "wait":
            wait_ready(args.url, timeout=args.timeout)
        case "running":
            wait_ready(args.url, timeout=args.timeout)
            tokens = login(args.url)
            try:
                print(wait_running(args.url, tokens.access_token, timeout=args.timeout)["version"])
            finally:
                revoke(args.url, tokens)
        case "onboard":
            created = onboard(args.url, username=args.username, password=args.password)
            print("created" if created else "already onboarded")
        case "login":
            print(login(args.url, args.username, args.password).access_token)
        case "token":
            tokens = login(args.url, args.username, args.password)
            print(create_long_lived_token(args.url, tokens.access_token))
            revoke(args.url, tokens)
        case "listener":
            tokens = login(args.url)
            try:
                entry_id = add_listener(
                    args.url,
                    tokens.access_token,
                    port=args.port,
                    tcp=not args.no_tcp,
                    udp=not args.no_udp,
                    options=args.options,
                )
            finally:
                revoke(args.url, tokens)
            print(entry_id)
        case "check-log":
            problems = check_log(args.config_dir)
            print("\n".join(problems) if problems else "log clean")
            return 1 if problems else 0
        case "ports":
            tcp_ok, udp_bound = port_status(args.listener_port)
            print(
                f"tcp={'accepting' if tcp_ok else 'closed'} udp={'bound' if udp_bound else 'free'}"
            )
            return 0 if tcp_ok and udp_bound else 1
        case "listener-ports":
            print(*listener_ports(args.config_dir))
        case "requirements":
            domains = config_domains(args.configuration) | integration_domains()
            for requirement, users in component_requirements(domains).items():
                print(f"{requirement}  # {', '.join(users)}")
        case "lock":
            lock(args.python, args.homeassistant, args.output, args.configuration)
        case "ready-banner":
            startup = Startup(args.public_url, args.started_at, args.bootstrap_seconds)
            with contextlib.suppress(KeyboardInterrupt):
                return ready_banner(args.url, args.config_dir, startup, timeout=args.timeout)
            return 1
    return 0
