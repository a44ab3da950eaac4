"""`make up`: the demo instance (made when missing), its accounts seeded into the hub's
authenticator, then JupyterHub in the foreground, as a service: its ports checked before anything
starts, and Ctrl-C or SIGTERM stopping every process it started (hub, proxy, the tre service, the
culler and the enforcer, workspaces) within :data:`STOP_SECONDS`, printing "stopped".

Where it listens: ``make up URL=http://HOST:PORT`` (or ``TRE_HUB_URL``) for the address people
open, and ``TRE_SERVICE_PORT``, ``TRE_HUB_API_PORT``, ``TRE_PROXY_API_PORT`` for the three
loopback ports behind it (:data:`PORTS`). A port in use stops it at once, naming the port and
the variable that moves it.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console

import hub as hub_package

HUB_CONFIG = Path(hub_package.__file__).parent / "jupyterhub_config.py"
DEFAULT_URL = "http://127.0.0.1:8000"
# the loopback ports behind the hub's address: (variable, default, what listens there)
PORTS = (
    ("TRE_SERVICE_PORT", 8010, "the tre web service"),
    ("TRE_HUB_API_PORT", 8081, "the hub's API"),
    ("TRE_PROXY_API_PORT", 8001, "the proxy's API"),
)
STOP_SECONDS = 10  # the promise: every process gone within this after Ctrl-C or SIGTERM
GRACE_SECONDS = 5  # the hub's own shutdown; then whatever is left is ended
DEMO = Path("demo-instance")
# demo accounts only: a synthetic town, people and passwords, printed for the tour
DEMO_PASSWORD = "treton-demo-2026"
TOUR = [
    ("sam.lead", "project lead: registers the project, submits it"),
    ("alex.analyst", "analyst in supporting-families: workspace, studies, release requests"),
    ("bea.analyst", "analyst in supporting-families"),
    ("chris.checker", "output checker: the airlock queue, reviews"),
    ("dana.checker", "output checker"),
    ("pat.approver", "approver for the police (one per agency: see `tre person list`)"),
    ("ops.operator", "operator: hub admin"),
    ("eve.outsider", "an analyst in no project: refused"),
]


def seed_accounts(instance, password: str = DEMO_PASSWORD) -> list[str]:
    """Every registered person gets an approved NativeAuthenticator account (demo only)."""
    import bcrypt
    from nativeauthenticator.orm import UserInfo
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from projects import registry

    state = instance.home / "hub"
    state.mkdir(exist_ok=True, mode=0o700)
    url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    from jupyterhub import orm

    # JupyterHub's own schema first (stamped at its version), then the authenticator's table
    orm.new_session_factory(url)().close()
    engine = create_engine(url)
    UserInfo.__table__.create(engine, checkfirst=True)
    with instance.db.session() as session:
        names = [p.username for p in registry.people(session)]
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt())
    with Session(engine) as hub, hub.begin():
        for name in names:
            found = hub.query(UserInfo).filter_by(username=name).first()
            if found is None:
                hub.add(UserInfo(username=name, password=hashed, is_authorized=True))
            else:
                found.password, found.is_authorized = hashed, True
    engine.dispose()
    return names


class PortInUse(Exception):
    """A port `make up` needs is taken: the message names it and how to move it."""


def ports_needed(url: str, environ: dict[str, str]) -> list[tuple[str, int, str, str]]:
    """(host, port, what listens there, how to move it) for every port `make up` opens."""
    address = urlsplit(url)
    if address.scheme not in ("http", "https") or not address.hostname:
        raise PortInUse(f"the hub's address {url!r} is not an http:// or https:// URL")
    try:
        port = address.port or (443 if address.scheme == "https" else 80)
    except ValueError:  # urlsplit's "Port out of range 0-65535", or a port that is no number
        raise PortInUse(
            f"{url!r} has no valid port: give one from 1 to 65535 (make up URL=http://HOST:PORT)"
        ) from None
    needed = [(address.hostname, port, "the hub (the address people open)", "make up URL=…")]
    for variable, default, what in PORTS:
        value = environ.get(variable, str(default))
        if not value.isdigit() or not 0 < int(value) < 65536:
            raise PortInUse(f"{variable}={value!r} is not a port number (1 to 65535)")
        needed.append(("127.0.0.1", int(value), what, variable))
    return needed


def check_ports(url: str, environ: dict[str, str]) -> None:
    """Refuse at once, naming the port, when one `make up` needs is in use (the hub once
    printed "JupyterHub is now running" on a port another program held)."""
    seen: set[int] = set()
    for host, port, what, move in ports_needed(url, environ):
        if port in seen:
            raise PortInUse(f"port {port} is given twice ({what} too): give each its own port")
        seen.add(port)
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise PortInUse(
                    f"port {port} on {host}, for {what}, is in use ({exc.strerror}): stop the "
                    f"program that holds it, or move it with {move}; nothing was started"
                ) from None


class _Stop(Exception):
    """Raised in the main thread by SIGINT or SIGTERM."""


def _on_signal(signum: int, frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def stop_all(hub: subprocess.Popen) -> None:
    """Stop the hub and every process under it: the hub is asked first (SIGTERM, its own
    graceful shutdown), and what is left after :data:`GRACE_SECONDS` (the proxy, which JupyterHub
    starts in a session of its own, services, workspaces) is ended, then killed."""
    import psutil

    try:
        started = psutil.Process(hub.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        started = []
    if hub.poll() is None:
        hub.send_signal(signal.SIGTERM)
    try:
        hub.wait(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        started.append(psutil.Process(hub.pid))
    alive = [p for p in started if _running(p)]
    for process in alive:
        try:
            process.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(alive, timeout=2)
    for process in alive:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=1)
    if hub.poll() is None:
        hub.kill()
    hub.wait()


def _running(process) -> bool:
    import psutil

    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", default=str(DEMO))
    parser.add_argument(
        "--url",
        default=os.environ.get("TRE_HUB_URL") or DEFAULT_URL,
        help="the hub's address (default: $TRE_HUB_URL, or %(default)s)",
    )
    options = parser.parse_args()
    console = Console(soft_wrap=True)
    try:
        check_ports(options.url, dict(os.environ))
    except PortInUse as exc:
        console.print(f"[red]make up[/red]: {exc}", highlight=False)
        sys.exit(1)
    home = Path(options.dir).absolute() / "instance"
    if not (home / "tre.toml").exists():
        from app.demo.run import run_demo

        console.print("[bold]No demo instance yet: making one (about a minute)[/bold]")
        run_demo(Path(options.dir), people=20000, seed=2026, console=console, actor="operator")
    from tre.instance import open_instance

    instance = open_instance(home)
    seed_accounts(instance)
    console.print(f"\n[bold]tre-kit at {options.url}[/bold] (instance {home})")
    console.print(f"Demo logins (password [bold]{DEMO_PASSWORD}[/bold] for every account):")
    for name, what in TOUR:
        console.print(f"  {name:<15} {what}")
    console.print("Ctrl-C stops the hub, its proxy, services and workspaces.\n")
    env = os.environ | {
        "TRE_HOME": str(home),
        "TRE_HUB_URL": options.url,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    hub = None
    try:
        # a session of its own: the terminal's Ctrl-C reaches this process only, which stops
        # the hub in order (children interrupted mid-call printed tracebacks)
        hub = subprocess.Popen(
            [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(HUB_CONFIG)],
            env=env,
            cwd=str(home / "hub"),
            start_new_session=True,
        )
        code = hub.wait()
        console.print(f"[red]the hub stopped by itself[/red] (exit {code}): see its log above")
        stop_all(hub)
        sys.exit(code or 1)
    except _Stop as stop:
        for s in previous:  # a second Ctrl-C does not interrupt the stopping
            signal.signal(s, signal.SIG_IGN)
        console.print(f"\n{stop}: stopping the hub, its proxy, services and workspaces…")
        began = time.monotonic()
        if hub is not None:
            stop_all(hub)
        console.print(f"stopped (in {time.monotonic() - began:.1f} s)")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # before the hub started (making the demo): nothing to stop
        print("\nstopped before the hub started")
        sys.exit(130)
