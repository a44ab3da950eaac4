"""The lead's registration pages: a new project, and each project's own Edit.

    /projects/new              a blank registration (the YAML file `tre project register` reads)
    /projects/PROJECT/edit     the project's current version, to amend

The text is checked exactly as the YAML route checks a file. Saving a project's text unchanged
changes nothing; a change is shown first, field by field, with its consequences (which data
controllers decide again, who accepts the terms again), and made only when the lead confirms
what was shown (the confirmation carries the preview's digest; any other is refused). The
same questions a section at a time, with the answers kept between pages: :mod:`hub.task_list`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml

from hub import guided
from hub.governance import legal_basis_names
from projects import drafts, registry
from projects.approvals import approvals, requested_datasets
from projects.errors import RegistryError
from projects.models import Person
from projects.policy import effective_state
from projects.quality import flags
from projects.spec import BLANK_PROJECT, ProjectSpec, load_yaml, parse_project
from projects.states import State
from tre.errors import Refused
from tre.web import Page


def spec_as_yaml(spec: dict[str, Any]) -> str:
    """A stored version's registration as the text the form holds (the fields in the file's
    order, absent optional fields left out)."""
    kept = {k: v for k, v in spec.items() if v not in (None, {}, [])}
    return yaml.safe_dump(kept, sort_keys=False, allow_unicode=True, width=100)


def _parse(text: str) -> ProjectSpec:
    data = load_yaml(text)
    if not isinstance(data, dict):
        raise RegistryError("the form must hold a project's registration (YAML mapping)")
    return parse_project(data, "the form")


def _problem_list(message: str) -> tuple[list[str], str | None]:
    """A refusal's message as its problems, one a bullet: a lead-in ending in a colon followed
    by ``  - `` items (as :func:`projects.quality.check_submittable` says them) is the lead-in
    and its items, not one problem more; other messages are one problem a line."""
    lines = message.splitlines()
    items = [line.removeprefix("  - ") for line in lines[1:] if line.startswith("  - ")]
    if len(lines) > 1 and lines[0].endswith(":") and len(items) == len(lines) - 1:
        return items, lines[0].removesuffix(":")
    return lines, None


class ProjectForm(Page):
    """Register a new project, or amend one (its Edit page posts here too)."""

    scope = "custom:tre:lead"

    def get(self) -> None:
        if self.get_query_argument("as", "") == "yaml":
            self._form(BLANK_PROJECT.read_text(), editing=None)
        else:
            self._guided(guided.values_of({}), editing=None)

    def _guided(
        self,
        values: dict[str, Any],
        editing: str | None,
        errors: dict[str, list[str]] | None = None,
        status: int = 200,
    ) -> None:
        with self.instance.db.session() as session:
            offered = guided.catalogue(session, date.today())
        self.page(
            "project_guided.html",
            sections=guided.SECTIONS,
            v=values,
            date_parts=guided.date_parts,
            date_fields=guided.DATE_FIELDS,
            c=offered,
            opened=guided.opened(values),
            editing=editing,
            errors=errors or {},
            status=status,
        )

    def _checked(self, editing: str | None) -> str | None:
        """The guided form's answers as a registration's text, once they pass every check the
        YAML route makes; else None, the form shown again with each error at its field."""
        values = guided.read_form(self)
        with self.instance.db.session() as session:
            spec, errors = guided.check(
                session, values, self.person, editing, self.instance.settings.policy
            )
        if spec is None:
            self._guided(values, editing, errors, status=400)
            return None
        return spec_as_yaml(spec.model_dump(mode="json"))

    def _form(
        self,
        text: str,
        editing: str | None,
        problems: list[str] | None = None,
        intro: str | None = None,
        done: str | None = None,
        warnings: list | None = None,
        status: int = 200,
        after: dict[str, Any] | None = None,
    ) -> None:
        self.page(
            "project_form.html",
            after=after,
            text=text,
            editing=editing,
            problems=problems or [],
            intro=intro,
            done=done,
            warnings=warnings or [],
            blocking=self.instance.settings.registration.block_submission,
            status=status,
        )

    def post(self, editing: str | None = None) -> None:
        action = self.get_body_argument("action", "register")
        if self.get_body_argument("guided", ""):
            checked = self._checked(editing)
            if checked is None:
                return
            if editing is None:  # check your answers, then save
                self._check(parse_project(load_yaml(checked), "the form"), text=checked)
                return
            text = checked  # an amendment: shown with its consequences before it is made
        else:
            text = self.get_body_argument("spec", "")
        from_check = self.get_body_argument("checked", "") == "yes"
        if from_check and action in ("change", "register", "submit"):
            try:
                answered = _parse(text)
            except (RegistryError, yaml.YAMLError) as exc:  # a forged page: the text route
                self._form(text, editing, *_problem_list(str(exc)), status=400)
                return
            if action == "change":  # back to the guided form, every answer kept
                self._guided(guided.values_of(answered.model_dump(mode="json")), editing)
                return
            if action == "submit" and self._check(answered, text=text, submitting=True):
                return
        if action == "back":  # from the amendment's check: the form again, nothing changed
            self._form(text, editing)
            return
        confirmed = self.get_body_argument("confirm", "") == "yes"
        registration = self.instance.settings.registration
        policy = self.instance.settings.policy
        warnings: list = []
        try:
            spec = _parse(text)
            if editing is not None and spec.id != editing:
                raise RegistryError(
                    f"this is project {editing}'s Edit page: the id must stay {editing} "
                    "(register a new project from Register a project)"
                )
            with self.instance.db.session() as session:
                warnings = flags(session, spec.model_dump(mode="json"), registration)
                registry.refuse_past_end(session, spec, date.today())
                exists = any(p.id == spec.id for p in registry.projects(session))
                if exists and editing is None:
                    raise RegistryError(
                        f"project {spec.id} exists already: choose another id, or amend it "
                        "from its own page (Edit)"
                    )
                stale = False
                if exists:
                    consequences = registry.amendment_consequences(
                        session, spec.id, spec, policy, registration
                    )
                    # a confirmation holds for what its preview showed, and nothing else
                    shown = self.get_body_argument("digest", "")
                    stale = confirmed and shown != consequences["digest"]
                    preview = bool(consequences["changes"]) and (not confirmed or stale)
                    if not preview:
                        registry.amend(
                            session,
                            self.person,
                            spec.id,
                            spec,
                            policy,
                            registration=registration,
                        )
                else:
                    consequences, preview = None, False
                    registry.register_project(session, self.person, spec, policy)
                if action == "submit" and not preview:
                    registry.submit(session, self.person, spec.id, registration)
                if self._from_tasks(editing) and not preview:
                    drafts.discard(session, self.person, editing or "")
                after = None if preview else self._after(session, spec.id, consequences)
            if preview and consequences is not None:  # outside the transaction (the frame reads)
                self._amendment(text, action, spec.id, consequences, warnings, stale)
                return
            if consequences is not None and not consequences["changes"]:
                done = (
                    f"Nothing changed: project {spec.id} stays at version {consequences['version']}"
                )
                done += ", submitted." if action == "submit" else "."
            else:
                done = f"Project {spec.id} {'submitted' if action == 'submit' else 'saved'}."
        except (RegistryError, Refused, yaml.YAMLError) as exc:
            problems, intro = _problem_list(str(exc))
            self._form(text, editing, problems, intro, None, warnings, status=400)
            return
        if self._from_tasks(editing):  # the task list's confirmation, not the YAML editor
            self.page(
                "project_done.html",
                done=done,
                project=spec.id,
                after=after,
                warnings=warnings,
                blocking=registration.block_submission,
            )
            return
        self._form(text, spec.id, None, None, done, warnings, after=after)

    @staticmethod
    def _after(session, project_id: str, consequences: dict[str, Any] | None) -> dict[str, Any]:
        """What a save left the project as, for its confirmation to say: its state, the data
        controllers it waits for (a submitted project: those that have not decided on its
        current version), and who must accept the terms again (an amendment's team)."""
        found = registry.project(session, project_id)
        state = effective_state(found)
        decided = approvals(session, found)
        waiting = [d for d in requested_datasets(found) if d not in decided]
        return {
            "state": state.value,
            "version": found.version,
            "waiting": sorted({registry.dataset(session, d).controller.name for d in waiting})
            if state == State.SUBMITTED
            else [],
            "accept_again": [
                registry.person(session, who).name
                for who in (consequences or {}).get("accept_again", [])
            ],
        }

    def _from_tasks(self, editing: str | None) -> str | None:
        """The task list a page posted from (its answers are a draft to forget once saved)."""
        if self.get_body_argument("from_tasks", "") != "yes":
            return None
        return f"{self.prefix()}/projects/{editing + '/edit' if editing else 'new'}/tasks"

    def _amendment(
        self,
        text: str,
        action: str,
        project_id: str,
        consequences: dict[str, Any],
        warnings: list,
        stale: bool = False,
    ) -> None:
        """An amendment's diff and consequences, before it is made; STALE: a confirmation of a
        preview that is no longer what would be made, refused (status 409), shown again."""
        with self.instance.db.session() as session:
            people = {p.username: p.name for p in registry.people(session)}
        self.page(
            "amendment.html",
            # the team by name and the controllers with their datasets, for the sentences
            team=[people.get(u, u) for u in consequences.get("accept_again", [])],
            deciders=[f"{d['controller']} ({d['dataset']})" for d in consequences["decide_again"]],
            text=text,
            action=action,
            project=project_id,
            c=consequences,
            warnings=warnings,
            stale=stale,
            tasks=self._from_tasks(project_id),
            blocked=[
                w
                for w in warnings
                if w.kind in self.instance.settings.registration.block_submission
            ],
            status=409 if stale else 200,
        )

    def _check(self, spec: ProjectSpec, text: str | None = None, submitting: bool = False) -> bool:
        """The guided answers' "Check your answers" page, the legal bases by name; a flag the
        operator's settings say blocks submission leaves only "Save as a draft", with the
        reason. SUBMITTING (a submission posted from the page anyway): the page again, with
        the blocking problems, if any (True); else False, and the submission goes on."""
        stored = spec.model_dump(mode="json")
        settings = self.instance.settings.registration
        with self.instance.db.session() as session:
            raised = flags(session, stored, settings)
            names = legal_basis_names(registry.gateways(session), stored["legal_basis"])
            titles = {ds.id: ds.title for ds in registry.datasets(session)}
            people = {p.username: p.name for p in registry.people(session)}
        blocked = [f for f in raised if f.kind in settings.block_submission]
        if submitting and not blocked:
            return False
        self.page(
            "project_check.html",
            text=text if text is not None else spec_as_yaml(stored),
            s=stored,
            names=names,
            titles=titles,
            people=people,
            places={w.field: guided.flag_place(w.field, stored, titles) for w in raised},
            warnings=raised,
            blocking=settings.block_submission,
            blocked=blocked,
            refused=submitting,
            tasks=self._from_tasks(None),
            section_of=guided.SECTION_OF,
            status=400 if submitting else 200,
        )
        return True


class EditProject(ProjectForm):
    """A project's own Edit: its current version's text, for its lead."""

    def get(self, project_id: str) -> None:  # type: ignore[override]
        with self.instance.db.session() as session:
            found = registry.project(session, project_id)
            lead = session.get_one(Person, found.current.lead_id)
            if lead.username != self.person:
                raise Refused(f"only project {project_id}'s lead ({lead.username}) can edit it")
            spec = found.current.spec
        if self.get_query_argument("as", "") == "yaml":
            self._form(spec_as_yaml(spec), editing=project_id)
        else:
            self._guided(guided.values_of(spec), editing=project_id)


def routes() -> list[tuple[str, type[Page]]]:
    return [
        (r"/projects/new", ProjectForm),
        (r"/projects/([a-z0-9-]+)/edit", EditProject),
    ]
