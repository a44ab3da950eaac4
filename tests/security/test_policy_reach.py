"""Policy changes reach running workspaces, and the safe setting's events are audited."""

import time

from projects import registry
from tests.hubtools import Kernel, login, stop_server, wait_for_lab
from tre import audit

P = "supporting-families"


def events(instance, action):
    with instance.db.session() as session:
        return [e for e in audit.events(session) if e.action == action]


def test_a_suspended_projects_running_workspace_is_stopped_within_a_minute(hub_url, studied):
    bea, _ = login(hub_url, "bea.analyst")
    assert bea.get(f"{hub_url}/hub/spawn/bea.analyst/{P}").status_code == 200
    wait_for_lab(bea, hub_url, "bea.analyst", P)
    kernel = Kernel(bea, hub_url, "bea.analyst", P)
    assert "rows" in kernel.run("from notebooks import workspace; print('rows')")
    stops_before = len(events(studied, "workspace.stop"))
    with studied.db.session() as session:
        registry.suspend(session, "ops.operator", P, "a data breach is being looked into")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            page = bea.get(f"{hub_url}/user/bea.analyst/{P}/api/status")
            if page.status_code != 200 or "JupyterLab" in page.text:
                break
            time.sleep(2)
        else:
            raise AssertionError("the suspended project's workspace was still running after 60 s")
        # every running workspace of the project is stopped (another test's may be running too);
        # the stop's event is written once the stop hook, now off the hub's loop, has finished,
        # which may be a moment after the workspace stops answering
        enforced: dict = {}
        while time.monotonic() < deadline + 15 and f"bea.analyst/{P}" not in enforced:
            stops = events(studied, "workspace.stop")[stops_before:]
            enforced = {e.object_id: e for e in stops if e.actor == "system:enforcer"}
            time.sleep(0.5)
        assert f"bea.analyst/{P}" in enforced
        assert all("suspended" in e.details for e in enforced.values())
        # and it cannot be started again while suspended; the refusal is audited
        refused = bea.get(f"{hub_url}/hub/spawn/bea.analyst/{P}")
        assert refused.status_code == 403 and "suspended" in refused.text
        assert events(studied, "workspace.refused")[-1].actor == "bea.analyst"
    finally:
        with studied.db.session() as session:
            registry.reinstate(session, "ops.operator", P)
        stop_server(bea, hub_url, "bea.analyst", P)


def test_logins_good_failed_and_refused_are_audited(hub_url, studied):
    before = {a: len(events(studied, a)) for a in ("hub.login", "hub.login_failed")}
    login(hub_url, "alex.analyst")
    login(hub_url, "alex.analyst", "a wrong password")
    login(hub_url, "mallory", "a guess of hers")
    good = events(studied, "hub.login")[before["hub.login"] :]
    failed = events(studied, "hub.login_failed")[before["hub.login_failed"] :]
    assert [e.actor for e in good] == ["alex.analyst"]
    assert {e.actor for e in failed} == {"alex.analyst", "mallory"}
    assert all('"from"' in e.details for e in good + failed)


def test_workspace_starts_are_audited_with_the_sandbox_account(hub_url, studied):
    started = events(studied, "workspace.start")
    assert started and started[-1].project == P
    assert "tre-" in started[-1].details
