"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL when
TRE_TEST_DATABASE_URL is set (CI sets it)."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

# Each test session has a temporary folder of its own (as /tmp is: sticky, open to all), so that
# the run sandboxes (tempdir/tre-run-*) a session looks for, or finds left over, are its own:
# sessions on one machine (a developer's beside CI's, or left by a killed one) never see, nor
# remove, one another's. Made at import, before pytest first asks for its own tmp_path base.
SESSION_TMP = tempfile.mkdtemp(prefix="tre-tests-")
os.chmod(SESSION_TMP, 0o1777)
os.environ["TMPDIR"] = SESSION_TMP
tempfile.tempdir = None


def pytest_unconfigure(config):
    """The session's temporary folder goes with it (pytest's own keeps the last three)."""
    import shutil

    shutil.rmtree(SESSION_TMP, ignore_errors=True)


POSTGRES_URL = os.environ.get("TRE_TEST_DATABASE_URL", "")
STUDIED_PEOPLE = 4000
STUDIED_TODAY = date(2026, 6, 1)
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path: Path) -> str:
    """A URL of an empty database: a SQLite file, or the test PostgreSQL database reset."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
def instance(tmp_path: Path, database_url: str):
    from app.schema import init_instance

    home = tmp_path / "instance"
    created = init_instance(home, database_url if database_url.startswith("postgresql") else "")
    yield created
    created.db.dispose()


@pytest.fixture
def sqlite_instance(tmp_path: Path):
    from app.schema import init_instance

    created = init_instance(tmp_path / "instance")
    yield created
    created.db.dispose()


@pytest.fixture
def run_cli(monkeypatch):
    """Run `tre ...` in-process; returns (exit code, stdout, stderr)."""
    import sys
    from io import StringIO

    from app import cli
    from tre import cli_context

    def run(*args: str, home: Path | None = None, account: str = "root") -> tuple[int, str, str]:
        """ACCOUNT is the operating-system account the command runs as (who is signed in)."""
        monkeypatch.setattr(cli_context, "os_account", lambda: account)
        out, err = StringIO(), StringIO()
        argv = ["tre"] + (["--home", str(home)] if home else []) + list(args)
        monkeypatch.setattr(sys, "argv", argv)
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        console_file, console_width = cli.console.file, cli.console.width
        cli.console.file = out
        cli.console.width = 250
        code = 0
        try:
            cli.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            cli.console.file = console_file
            cli.console.width = console_width
        return code, out.getvalue(), err.getvalue()

    return run


@pytest.fixture(scope="session")
def studied(tmp_path_factory):
    """A demo instance (SQLite) with a small synthetic town ingested, linked and cut into the
    demo project's extract: what the analyses and the airlock work on. Shared by the session;
    tests that change it make their own."""
    from app.demo import linkage as demo_linkage
    from app.demo import projects as demo_projects
    from app.demo.data import generate
    from app.schema import init_instance

    base = tmp_path_factory.mktemp("studied")
    created = init_instance(base / "instance", actor="ops")
    generate(STUDIED_PEOPLE, 7, base / "town")
    demo_projects.populate(created, "ops", STUDIED_TODAY)
    demo_projects.approve_project(created)
    demo_linkage.run(created, base / "town", "ops", "supporting-families")
    yield created
    created.db.dispose()


@pytest.fixture(scope="session")
def serve():
    """serve(app) -> base URL: a tornado application on a loopback port, in a thread, for the
    rest of the session."""
    import asyncio
    import threading

    import tornado.httpserver
    import tornado.ioloop
    import tornado.netutil

    loops = []

    def start(app) -> str:
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        started = threading.Event()

        def run():
            asyncio.set_event_loop(asyncio.new_event_loop())
            tornado.httpserver.HTTPServer(app).add_sockets(sockets)
            loops.append(tornado.ioloop.IOLoop.current())
            started.set()
            loops[-1].start()

        threading.Thread(target=run, daemon=True).start()
        started.wait()
        return f"http://127.0.0.1:{sockets[0].getsockname()[1]}"

    yield start
    for loop in loops:
        loop.add_callback(loop.stop)


@pytest.fixture(scope="session")
def hub_url(studied, tmp_path_factory):
    """A real JupyterHub serving the studied instance, for the session (e2e and security)."""
    from tests.hubtools import running_hub

    with running_hub(studied, tmp_path_factory.mktemp("hub")) as url:
        yield url
