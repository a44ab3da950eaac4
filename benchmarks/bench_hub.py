"""Spawn-to-ready time and service page latency with simulated users, loopback only.

N analysts (default 20) of the demo project log in at once, start their workspaces, wait until
JupyterLab answers, and browse the service's pages. Figures: spawn-to-ready median and 90th
percentile, page latency median and 90th percentile.

Baselines in the same run: for spawning, the same hub with the same single-user server and
arguments but JupyterHub's plain SimpleLocalProcessSpawner and no tre hooks (no policy decision,
no accounts, no sandbox), started first on a fresh hub; so the boundary's cost is the ratio of
the two medians. For pages, the hub's own login page (JupyterHub alone, no tre code).
Bounded: each hub's run stops after --limit seconds. Needs root and bubblewrap (the sandbox).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import requests
import yaml
from common import report

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.hubtools import free_port  # noqa: E402

PASSWORD = "treton-demo-2026"
P = "supporting-families"


def p90(values):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(0.9 * (len(values) - 1))))]


def prepare(home: Path, users: int) -> list[str]:
    from app.demo import projects as demo_projects
    from app.schema import init_instance
    from app.up import seed_accounts
    from projects import registry
    from tre.folders import ProjectFolders

    today = date.today()
    instance = init_instance(home, actor="ops")
    demo_projects.populate(instance, "ops", today)
    names = [f"analyst{i:02d}" for i in range(users)]
    data = yaml.safe_load(demo_projects.PROJECT_FILE.read_text())
    with instance.db.session() as session:
        for name in names:
            registry.add_person(
                session, "ops", name, name, f"{name}@example.org", "TRETON-COUNCIL", ["analyst"]
            )
            registry.accredit(
                session, "ops", name, "ONS Accredited Researcher", name, date(today.year + 2, 1, 1)
            )
    data["team"] += [{"person": n, "role": "analyst"} for n in names]
    path = home / "project.yaml"
    path.write_text(yaml.safe_dump(data))
    demo_projects.approve_project(instance, path)
    extract = ProjectFolders.of(instance, P).data
    extract.mkdir(parents=True, exist_ok=True)
    seed_accounts(instance, PASSWORD)
    return names


def login(base: str, user: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/hub/login")
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    session.post(
        f"{base}/hub/login?next=", data={"username": user, "password": PASSWORD, "_xsrf": xsrf}
    )
    return session


def journey(base: str, user: str, deadline: float) -> dict:
    session = login(base, user)
    started = time.perf_counter()
    session.get(f"{base}/hub/spawn/{user}/{P}")
    ready = None
    while time.monotonic() < deadline:
        page = session.get(f"{base}/user/{user}/{P}/api/status")
        if page.status_code == 200:
            ready = time.perf_counter() - started
            break
        session.get(f"{base}/user/{user}/{P}/lab")  # completes the single-user OAuth
        time.sleep(0.25)
    pages = []
    for path in (
        "/services/tre/",
        "/services/tre/register/",
        f"/services/tre/projects/{P}/requests/new",
    ) * 3:
        t = time.perf_counter()
        session.get(base + path)
        pages.append(time.perf_counter() - t)
    hub_pages = []
    for _ in range(9):
        t = time.perf_counter()
        requests.get(f"{base}/hub/login")
        hub_pages.append(time.perf_counter() - t)
    return {"ready": ready, "pages": pages, "hub_pages": hub_pages}


# the baseline: the tre hub's configuration, then its spawner swapped for JupyterHub's plain one
# without the tre hooks; the server runs as the hub's own account (root here, hence --allow-root)
BASELINE = """
exec(compile(open({config!r}).read(), {config!r}, "exec"))
c.JupyterHub.spawner_class = "simple"
c.Spawner.pre_spawn_hook = None
c.Spawner.post_stop_hook = None
c.Spawner.notebook_dir = {folder!r}
c.Spawner.args = [*c.Spawner.args, "--allow-root"]
"""


def run_hub(home: Path, names: list[str], config: Path, limit: float) -> list[dict]:
    """Start a hub with CONFIG, send every analyst on their journey at once, stop the hub."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "TRE_HOME": str(home),
        "TRE_HUB_URL": base,
        "TRE_SERVICE_PORT": str(free_port()),
        "TRE_HUB_API_PORT": str(free_port()),
        "TRE_PROXY_API_PORT": str(free_port()),
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    hub = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "jupyterhub"),
            "-f",
            str(config),
        ],
        env=env,
        cwd=str(home / "hub"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(120):
            try:
                if requests.get(f"{base}/services/tre/register/", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit("the hub did not answer within 60 s")
        deadline = time.monotonic() + limit
        with ThreadPoolExecutor(len(names)) as pool:
            results = list(pool.map(lambda n: journey(base, n, deadline), names))
    finally:
        os.killpg(hub.pid, signal.SIGINT)
        hub.wait(timeout=60)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--limit", type=float, default=300)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "instance"
        names = prepare(home, options.users)
        tre_config = ROOT / "hub" / "jupyterhub_config.py"
        plain = Path(tmp) / "plain"
        plain.mkdir()
        baseline = Path(tmp) / "baseline_config.py"
        baseline.write_text(BASELINE.format(config=str(tre_config), folder=str(plain)))
        plain_results = run_hub(home, names, baseline, options.limit)
        results = run_hub(home, names, tre_config, options.limit)
    ready = [r["ready"] for r in results if r["ready"] is not None]
    plain_ready = [r["ready"] for r in plain_results if r["ready"] is not None]
    pages = [t for r in results for t in r["pages"]]
    hub_pages = [t for r in results for t in r["hub_pages"]]
    report(
        "hub",
        users=options.users,
        ready=len(ready),
        spawn_median_s=round(statistics.median(ready), 2) if ready else None,
        spawn_p90_s=round(p90(ready), 2) if ready else None,
        plain_ready=len(plain_ready),
        plain_spawn_median_s=round(statistics.median(plain_ready), 2) if plain_ready else None,
        plain_spawn_p90_s=round(p90(plain_ready), 2) if plain_ready else None,
        ratio_spawn_tre_to_plain=(
            round(statistics.median(ready) / statistics.median(plain_ready), 2)
            if ready and plain_ready
            else None
        ),
        page_median_ms=round(1000 * statistics.median(pages), 1),
        page_p90_ms=round(1000 * p90(pages), 1),
        hub_login_median_ms=round(1000 * statistics.median(hub_pages), 1),
        ratio_service_to_hub_page=round(statistics.median(pages) / statistics.median(hub_pages), 2),
    )


if __name__ == "__main__":
    main()
