"""`make up`: the demo instance (made when missing), its accounts seeded into the hub's
authenticator, then JupyterHub in the foreground; Ctrl-C stops every process it started."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from rich.console import Console

import hub as hub_package

HUB_CONFIG = Path(hub_package.__file__).parent / "jupyterhub_config.py"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", default=str(DEMO))
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    options = parser.parse_args()
    console = Console()
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
    hub = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(HUB_CONFIG)],
        env=env,
        cwd=str(home / "hub"),
    )
    try:
        sys.exit(hub.wait())
    except KeyboardInterrupt:
        hub.send_signal(signal.SIGINT)
        try:
            hub.wait(timeout=30)
        except subprocess.TimeoutExpired:
            hub.kill()
        console.print("stopped")


if __name__ == "__main__":
    main()
