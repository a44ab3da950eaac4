"""The tre web service at ``/services/tre/``: every role's pages, behind the hub's OAuth.

Each page checks who is asking (the hub's OAuth), the custom scope the page needs
(``custom:tre:review``, ``custom:tre:approve``, ``custom:tre:lead``), and then the policy engine,
which has the last word. Pages: the home page (analysts' projects, whether each is usable now and
why not, accept terms, start the workspace, runs, release requests), the airlock's pages
(:mod:`output_checks.web`), approvers' pages, the lead's project form, the transparency register.

Run by the hub as a managed service (``python -m hub.service``).
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

from hub import governance, operator, registration, roles, run_pages, task_list
from hub.config import ROLE_SCOPES, SCOPE_NAMES
from output_checks import airlock, notify
from output_checks import web as airlock_web
from projects import registry
from projects.errors import RegistryError
from projects.policy import TERMS_OFFERED, PolicyAction, decide, effective_state, status
from projects.register import TEMPLATES as register_templates
from projects.terms import terms_text
from tre.errors import Refused, TreError
from tre.web import Page, application

TEMPLATES = Path(__file__).parent / "templates"


def scopes_of(instance):
    """The custom scopes a person holds by their roles (what the hub's roles grant them)."""

    def scopes(username: str) -> set[str]:
        with instance.db.session() as session:
            try:
                person = registry.person(session, username)
            except RegistryError:
                return set()
            return {scope for role, scope in ROLE_SCOPES.items() if role in person.role_names}

    return scopes


def my_projects(instance, username: str, at: date | None = None) -> list[dict[str, Any]]:
    from hub.spawn import drafts
    from notebooks.runs import FAILED, runs

    out = []
    with instance.db.session() as session:
        for found in registry.projects(session):
            members = {m.person.username: m.role for m in found.current.members}
            if username not in members:
                continue
            decision = decide(session, username, PolicyAction.WORK_IN_WORKSPACE, found.id, at=at)
            analysis = decide(session, username, PolicyAction.RUN_ANALYSIS, found.id, at=at)
            offered = effective_state(found, at) in TERMS_OFFERED  # the terms, once approved
            out.append(
                {
                    "id": found.id,
                    "title": found.current.spec["title"],
                    "role": members[username],
                    "state": status(session, found, at),
                    "usable": decision.allowed,
                    "can_run": analysis.allowed,
                    "reasons": (decision if decision.reasons else analysis).web_reasons(offered),
                    "needs_terms": decision.needs_terms and offered,
                }
            )
    for project in out:
        project["runs"] = [
            {
                "id": r.id,
                "notebook": r.notebook,
                "status": r.status,
                "started": r.started,
                "error": r.error if r.status == FAILED else "",
            }
            for r in runs(instance, project["id"])
            if r.person == username
        ][:10]
        project["requests"] = [
            r for r in airlock.requests(instance, project["id"]) if r["author"] == username
        ]
        project["notebooks"] = workspace_notebooks(instance, project["id"], username)
        project["drafts"] = drafts(instance, project["id"], username)
    return out


def workspace_notebooks(instance, project_id: str, username: str) -> list[str]:
    """The notebooks of the person's own workspace that may be run with provenance."""
    from notebooks.runner import runnable
    from notebooks.runs import WORKSPACE_PREFIX

    return [n for n in runnable(instance, project_id, username) if n.startswith(WORKSPACE_PREFIX)]


class HomePage(Page):
    def get(self) -> None:
        from notebooks.runner import studies

        self.page(
            "home.html",
            projects=my_projects(self.instance, self.person),
            tasks=roles.tasks(self.instance, self.person, self.scopes, self.prefix()),
            studies=list(studies()),
        )


class AcceptTerms(Page):
    def get(self, project_id: str) -> None:
        with self.instance.db.session() as session:
            found = registry.project(session, project_id)
            text = terms_text(session, found)
        self.page("terms.html", project=project_id, terms=text)

    def post(self, project_id: str) -> None:
        with self.instance.db.session() as session:
            registry.accept_terms(session, self.person, project_id)
        self.redirect(f"{self.prefix()}/", status=303)


async def run_in_background(instance, project_id: str, person: str, name: str, parameters=None):
    """:func:`notebooks.runner.run_runnable` in a thread: the service answers others meanwhile."""
    import asyncio

    from notebooks.runner import run_runnable

    return await asyncio.get_running_loop().run_in_executor(
        None, lambda: run_runnable(instance, project_id, person, name, parameters)
    )


class RunApi(Page):
    """``POST /api/projects/<id>/runs`` (JSON ``notebook``: a study's name or ``workspace/PATH``
    of the signed-in person's own workspace, and optional ``parameters``): the run, with
    provenance, of the person from the hub token (the workspace's JupyterLab, hub/lab.py, or its
    relay, hub/relay.py). Answers JSON: the run's id, status, error and requestable files."""

    async def post(self, project_id: str) -> None:
        import json

        from notebooks.runs import requestable_files

        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            body = None
        notebook = body.get("notebook") if isinstance(body, dict) else None
        parameters = (body.get("parameters") or {}) if isinstance(body, dict) else {}
        if not isinstance(notebook, str) or not isinstance(parameters, dict):
            answer_json(self, 400, error="send JSON with notebook: workspace/PATH, or a study")
            return
        try:
            result = await run_in_background(
                self.instance, project_id, self.person, notebook, parameters
            )
        except Refused as refused:
            answer_json(self, 403, error=str(refused))
            return
        except TreError as problem:
            answer_json(self, 400, error=str(problem))
            return
        from notebooks.runs import get_run

        answer_json(
            self,
            201,
            id=result.id,
            notebook=notebook,
            status=result.status,
            error=result.error,
            requestable=[f.path for f in requestable_files(get_run(self.instance, result.id))],
            page=f"{self.prefix()}/projects/{project_id}/runs/{result.id}",
        )


def answer_json(handler, code: int, **values: Any) -> None:
    """Answer an API request with HTTP status CODE and VALUES as JSON."""
    import json

    handler.set_status(code)
    handler.set_header("Content-Type", "application/json")
    handler.finish(json.dumps(values, default=str))


class RequestApi(Page):
    """``POST /api/projects/<id>/requests`` (JSON ``files``, ``group``, ``context``, ``controls``,
    ``recipients``, the user names who may download the release; default the author):
    a release request of the signed-in person (from the hub token: the workspace's relay,
    hub/relay.py), submitted at once. Answers JSON: the request's id, state and checks, or the
    refusal's sentence."""

    def post(self, project_id: str) -> None:
        import json

        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            body = None
        files = body.get("files") if isinstance(body, dict) else None
        if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
            self._answer(400, error="send JSON with files: a list of your runs' output paths")
            return
        assert isinstance(body, dict)
        recipients = body.get("recipients") or []
        if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
            self._answer(400, error="recipients, when sent, is a list of user names")
            return
        try:
            request_id = airlock.request(
                self.instance,
                project_id,
                self.person,
                files,
                str(body.get("group") or "outputs"),
                str(body.get("context", "")),
                str(body.get("controls", "")),
                recipients=recipients,
            )
            checks = airlock.submit(self.instance, request_id, self.person)
        except Refused as refused:
            self._answer(403, error=str(refused))
            return
        except TreError as problem:
            self._answer(400, error=str(problem))
            return
        shown = airlock.show(self.instance, request_id, self.person)
        self._answer(201, id=request_id, state=shown["state"], checks=checks)

    def _answer(self, status: int, **values: Any) -> None:
        answer_json(self, status, **values)


class RegisterPage(Page):
    """The public transparency register, computed on each request (never stale) and read
    without signing in: the content `tre register publish` writes, with a filter (``?q=``) that
    works without JavaScript, and the same entries as CSV and JSON."""

    public = True

    def get(self, download: str | None = None) -> None:
        from output_checks import release_dates
        from projects import register

        settings = self.instance.settings
        today = date.today()
        query = self.get_query_argument("q", "").strip()
        with self.instance.db.session() as session:
            every = register.entries(
                session, settings.transparency.show_person_names, today, releases=release_dates
            )
        rows = register.matching(every, query)
        if download is None:
            self.page(
                "register.html",
                rows=rows,
                total=len(every),
                query=query,
                name=settings.instance.name,
                at=today,
            )
            return
        if download == "csv":
            body = register.as_csv(rows, settings.transparency.show_person_names)
            self.set_header("Content-Type", "text/csv; charset=utf-8")
        else:
            body = register.as_json(rows, settings.instance.name, today)
            self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="register.{download}"')
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(body)


def routes() -> list[tuple[str, type[Page]]]:
    return [
        (r"/?", HomePage),
        (r"/projects/([a-z0-9-]+)/terms", AcceptTerms),
        *run_pages.routes(),
        (r"/api/projects/([a-z0-9-]+)/requests", RequestApi),
        (r"/api/projects/([a-z0-9-]+)/runs", RunApi),
        (r"/register/?", RegisterPage),
        (r"/register/register\.(csv|json)", RegisterPage),
        *airlock_web.routes(),
        *registration.routes(),
        *task_list.routes(),
        *governance.routes(),
        *operator.routes(),
    ]


def make_app(instance, identify=None, prefix: str = "", **settings):
    return application(
        instance,
        routes(),
        identify or (lambda handler: None),
        prefix=prefix,
        templates=[TEMPLATES, airlock_web.TEMPLATES, register_templates],
        scopes_of=scopes_of(instance),
        frame=roles.frame(instance),
        scope_names=SCOPE_NAMES,
        unread_of=notify.unread,
        **settings,
    )


def hub_app(instance):
    """The service as the hub runs it: OAuth through the hub on every page."""
    from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated

    class SignedIn(HubOAuthenticated):
        def check_xsrf_cookie(self) -> None:
            # tornado checks before the handler asks who is there: a request carrying a hub
            # token is authenticated first, so the hub's check then skips the cookie test (no
            # browser sends a token header from another site). A cookie-signed request goes
            # straight on: the hub's cookie authentication runs this check itself.
            if self.request.headers.get("Authorization"):
                _ = self.current_user
            super().check_xsrf_cookie()

    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/tre/").rstrip("/")
    wrapped = [
        (path, type(handler.__name__, (SignedIn, handler), {})) for path, handler in routes()
    ]
    return application(
        instance,
        [*wrapped, (r"/oauth_callback", HubOAuthCallbackHandler)],
        # unused: HubOAuthenticated's get_current_user (first in each page's bases) answers
        lambda handler: None,
        prefix=prefix,
        templates=[TEMPLATES, airlock_web.TEMPLATES, register_templates],
        cookie_secret=os.environ.get("JUPYTERHUB_API_TOKEN", "").encode() or None,
        login_redirect=True,
        frame=roles.frame(instance),
        scope_names=SCOPE_NAMES,
        unread_of=notify.unread,
    )


def recover_runs(instance) -> None:
    """Fail the runs this host's earlier service (or a killed `tre run`) left running, and remove
    their sandboxes (:mod:`notebooks.recovery`); what it did goes to the service's log. A failure
    here never stops the service: `tre runs recover` does the same later."""
    from notebooks.recovery import recover

    try:
        lines = recover(instance, "system").lines()
    except Exception as exc:  # the service must start; the log says why nothing was recovered
        lines = [f"failed ({type(exc).__name__}: {exc}); run `tre runs recover`"]
    for line in lines:
        print(f"tre service: run recovery: {line}", flush=True)


def main() -> None:
    from urllib.parse import urlparse

    import tornado.ioloop

    from hub import groups
    from tre.instance import open_instance

    instance = open_instance(os.environ.get("TRE_HOME"))
    # before any page can start a run: the runs an earlier service of this host left running
    recover_runs(instance)
    app = hub_app(instance)
    url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:8010"))
    app.listen(url.port or 8010, url.hostname or "127.0.0.1")

    def keep_groups_in_step() -> None:
        try:
            groups.sync(
                os.environ["JUPYTERHUB_API_URL"],
                os.environ["JUPYTERHUB_API_TOKEN"],
                groups.desired(instance),
            )
        except Exception as exc:  # the hub may be restarting: try again next minute
            print(f"tre service: group sync failed: {exc}", flush=True)

    if "JUPYTERHUB_API_TOKEN" in os.environ:
        tornado.ioloop.PeriodicCallback(keep_groups_in_step, 60_000).start()
        tornado.ioloop.IOLoop.current().add_callback(keep_groups_in_step)
    tornado.ioloop.IOLoop.current().start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # the hub stops its services with SIGINT: a stop, not a fault
        sys.exit(0)
