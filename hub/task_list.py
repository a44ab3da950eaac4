"""The guided registration a section at a time: GOV.UK's task-list pattern over the guided form.

    /projects/new/tasks                   the task list of the lead's new registration
    /projects/new/tasks/SECTION           one section's question page (Save and continue)
    /projects/new/tasks/check             "Check your answers", once every section is complete
    /projects/PROJECT/edit/tasks[/...]    the same for an amendment of PROJECT (its check is the
                                          amendment's diff and consequences)

The answers typed so far are the lead's draft (:mod:`projects.drafts`), kept between pages. Each
page's answers are read, checked and reported as the one-page form's are (:mod:`hub.guided`:
read_form, check, errors_by_field); a section is complete once saved without a problem at its
fields. Saving goes through :class:`hub.registration.ProjectForm`, as the one-page form's does.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hub import guided
from hub.registration import ProjectForm, spec_as_yaml
from projects import drafts, registry
from projects.errors import RegistryError
from projects.models import Person
from projects.quality import Flag, flags
from tre.errors import Refused
from tre.web import Page

# a task's status, in GOV.UK's words
NOT_STARTED, IN_PROGRESS, COMPLETED, CANNOT_START = (
    "Not started",
    "In progress",
    "Completed",
    "Cannot start yet",
)
# the section a purpose-quality flag is about, by the first part of its field
FLAGGED_SECTION = {
    "purpose": "about",
    "intended_outputs": "about",
    "data": "data",
    "data_period": "data",
    "start": "dates",
    "end": "dates",
    "retention_until": "dates",
}


def section_named(name: str) -> guided.Section:
    found = next((s for s in guided.SECTIONS if s.name == name), None)
    if found is None:
        raise RegistryError(
            f"the registration has no section {name!r}: its sections are "
            + ", ".join(s.name for s in guided.SECTIONS)
        )
    return found


def tasks(
    values: dict[str, Any], saved: list[str], errors: dict[str, list[str]], raised: list[Flag]
) -> list[dict[str, Any]]:
    """Each section as a task: its status (complete once saved with no problem at its fields),
    its problems and the purpose-quality flags about it (only once it is begun)."""
    out = []
    for section in guided.SECTIONS:
        wrong = [m for ms in section.problems(errors).values() for m in ms]
        begun = section.name in saved or section.answered(values)
        if section.name in saved and not wrong:
            state = COMPLETED
        else:
            state = IN_PROGRESS if begun else NOT_STARTED
        out.append(
            {
                "section": section,
                "status": state,
                "problems": wrong if section.name in saved else [],
                "flags": [
                    f
                    for f in raised
                    if begun and FLAGGED_SECTION.get(f.field.split(".")[0]) == section.name
                ],
            }
        )
    return out


class Draft(ProjectForm):
    """What every page of the task list shares: whose draft it is (the signed-in lead's, of a
    new project or of an amendment of a project they lead), its answers and its check."""

    scope = "custom:tre:lead"
    # (the version a stale amendment draft began from, the project's version now), when set
    moved_on: tuple[Any, int] | None = None

    def _tasks_url(self, editing: str | None) -> str:
        return f"{self.prefix()}/projects/{editing + '/edit' if editing else 'new'}/tasks"

    def _from_tasks(self, editing: str | None) -> str | None:
        return self._tasks_url(editing)

    def _draft(self, editing: str | None) -> tuple[dict[str, Any], list[str]]:
        """(answers, sections saved): the lead's draft; else,
        for a new project, nothing answered; for an amendment, the current version, every
        section complete."""
        with self.instance.db.session() as session:
            if editing is not None:
                found = registry.project(session, editing)
                lead = session.get_one(Person, found.current.lead_id)
                if lead.username != self.person:
                    raise Refused(f"only project {editing}'s lead ({lead.username}) can edit it")
            kept = drafts.answers(session, self.person, editing or "")
            if kept is not None:  # over every answer's default (a draft older than a field)
                values, saved = {**guided.values_of({}), **kept[0]}, kept[1]
                if editing is not None:
                    # a draft amends the version it began from: once the project has been
                    # amended another way, its sections are checked again against the new one
                    # (kept, never dropped: nothing typed is lost)
                    began = values.get(BASE_VERSION)
                    if began != found.version:
                        self.moved_on = (began, found.version)
                        saved = []
                    values[BASE_VERSION] = found.version
                return values, saved
            if editing is None:
                return guided.values_of({}), []
            current = guided.values_of(found.current.spec) | {BASE_VERSION: found.version}
        return current, [s.name for s in guided.SECTIONS]

    def _checked_draft(self, values: dict[str, Any], editing: str | None):
        with self.instance.db.session() as session:
            spec, errors = guided.check(
                session, values, self.person, editing, self.instance.settings.policy
            )
            stored = (
                spec.model_dump(mode="json")
                if spec
                else guided.registration_of(values, self.person)
            )
            raised = flags(session, stored, self.instance.settings.registration)
        return spec, errors, raised

    def _title(self, editing: str | None) -> str:
        return f"Amend project {editing}" if editing else "Register a project"


# the version of the project an amendment's draft began from, kept among its answers
BASE_VERSION = "amends_version"


class TaskList(Draft):
    """The task list: each section with its status and flags, then "Check your answers"."""

    SUPPORTED_METHODS = ("GET",)  # saving is ProjectForm's own address, not this one

    def get(self, editing: str | None = None) -> None:
        values, saved = self._draft(editing)
        _, errors, raised = self._checked_draft(values, editing)
        shown = tasks(values, saved, errors, raised)
        complete = all(t["status"] == COMPLETED for t in shown)
        settings = self.instance.settings.registration
        self.page(
            "project_tasks.html",
            tasks=shown,
            done=sum(t["status"] == COMPLETED for t in shown),
            complete=complete,
            editing=editing,
            heading=self._title(editing),
            url=self._tasks_url(editing),
            blocking=settings.block_submission,
            one_page=f"{self.prefix()}/projects/{editing + '/edit' if editing else 'new'}",
            moved_on=self.moved_on,
        )


class Question(Draft):
    """One section's question page: its answers checked when saved; Save and continue returns
    to the task list once its fields have no problem, else the page again with each error."""

    def get(self, editing: str | None, name: str) -> None:  # type: ignore[override]
        section = section_named(name)
        values, _ = self._draft(editing)
        self._question(section, values, editing, {})

    def _to_check(self) -> bool:
        """Whether the page was reached from "Check your answers" (a Change link), to return
        there once saved (GOV.UK's pattern)."""
        return self.get_query_argument("return", "") == "check"

    def post(self, editing: str | None, name: str) -> None:  # type: ignore[override]
        section = section_named(name)
        values, saved = self._draft(editing)
        before = (dict(values), list(saved))
        typed = guided.read_form(self)
        values = {**values, **{key: typed[key] for key in section.answers}}
        if editing is not None:
            values["id"] = editing  # an Edit page's project stays itself
        _, errors, _ = self._checked_draft(values, editing)
        mine = section.problems(errors)
        saved = [
            s.name
            for s in guided.SECTIONS
            if (s.name in saved or s.name == section.name) and not (s is section and mine)
        ]
        if (values, saved) != before:  # a save that changes nothing writes nothing
            with self.instance.db.session() as session:
                drafts.keep(session, self.person, editing or "", values, saved)
        if mine:
            self._question(section, values, editing, mine, status=400)
            return
        back = "/check" if self._to_check() else ""
        self.redirect(self._tasks_url(editing) + back, status=303)

    def _question(
        self,
        section: guided.Section,
        values: dict[str, Any],
        editing: str | None,
        errors: dict[str, list[str]],
        status: int = 200,
    ) -> None:
        with self.instance.db.session() as session:
            offered = guided.catalogue(session, date.today())
        self.page(
            "project_task.html",
            section=section,
            v=values,
            date_parts=guided.date_parts,
            date_fields=guided.DATE_FIELDS,
            c=offered,
            opened=guided.opened(values),
            editing=editing,
            errors=errors,
            heading=self._title(editing),
            url=self._tasks_url(editing),
            to_check=self._to_check(),
            status=status,
        )


class CheckAnswers(Draft):
    """Once every section is complete: a new project's "Check your answers" (saved or
    submitted as the one-page form's are), or an amendment's diff and consequences."""

    SUPPORTED_METHODS = ("GET",)

    def get(self, editing: str | None = None) -> None:
        values, saved = self._draft(editing)
        spec, errors, raised = self._checked_draft(values, editing)
        if spec is None or any(t["status"] != COMPLETED for t in tasks(values, saved, errors, [])):
            self.redirect(self._tasks_url(editing), status=303)  # not every section is done
            return
        text = spec_as_yaml(spec.model_dump(mode="json"))
        if editing is None:
            self._check(spec, text=text)
            return
        with self.instance.db.session() as session:
            consequences = registry.amendment_consequences(
                session,
                editing,
                spec,
                self.instance.settings.policy,
                self.instance.settings.registration,
            )
        if not consequences["changes"]:
            self.page(
                "project_tasks.html",
                tasks=tasks(values, saved, errors, raised),
                done=len(guided.SECTIONS),
                complete=True,
                unchanged=consequences["version"],
                submittable=consequences["state"] == "draft",
                text=text,
                editing=editing,
                heading=self._title(editing),
                url=self._tasks_url(editing),
                blocking=self.instance.settings.registration.block_submission,
                one_page=f"{self.prefix()}/projects/{editing}/edit",
            )
            return
        self._amendment(text, "register", editing, consequences, raised)


def routes() -> list[tuple[str, type[Page]]]:
    draft = r"/projects/(?:new|([a-z0-9-]+)/edit)/tasks"
    return [
        (draft + r"/?", TaskList),
        (draft + r"/check", CheckAnswers),
        (draft + r"/([a-z]+)", Question),
    ]
