"""The author's pages of the airlock: a new request, its files chosen run by run, and the answer
to a returned request (reply, add, replace or withdraw files, resubmit), or its withdrawal.

Each form calls the same workflow functions as ``tre outputs`` (:mod:`output_checks.airlock`),
which decide who may do what and to which files: the pages only offer. Who acts is the signed-in
person; a file named by a form is whatever the form sent, and the airlock refuses anything that is
not a file of the person's own succeeded run in the project.
"""

from __future__ import annotations

from typing import Any

from output_checks import airlock, requestable
from output_checks.airlock import AirlockError
from tre.errors import Refused, TreError
from tre.web import Page

# what an author's answer to a returned request may do, as the request page's buttons send it
ANSWERS = ("reply", "add", "replace", "withdraw-file", "resubmit", "withdraw")


def described(page: Page, choices: list[requestable.RunChoices]) -> dict[str, tuple[str, str, str]]:
    """Each run's group name, context and controls as the form sent them."""
    return {
        run.id: tuple(  # type: ignore[misc]
            page.get_body_argument(f"{field}-{run.id}", "").strip()
            for field in ("group", "context", "controls")
        )
        for run in choices
    }


class NewRequestPage(Page):
    """An analyst's release request: the files of their succeeded runs in the project, run by
    run (notebook and time, each file's size and preview), a named group per run with its
    context and controls; submitted at once, so the automatic checks run."""

    def get(self, project_id: str) -> None:
        self._form(project_id)

    def _form(self, project_id: str, problem: str = "", status: int = 200, **kept: Any) -> None:
        choices = requestable.by_run(self.instance, project_id, self.person)
        self.page(
            "airlock_new_request.html",
            project=project_id,
            runs=choices,
            group_name=requestable.group_name,
            problem=problem,
            chosen=kept.get("chosen", set()),
            described=kept.get("described", {}),
            recipients=kept.get("recipients", self.person),
            status=status,
        )

    def post(self, project_id: str) -> None:
        choices = requestable.by_run(self.instance, project_id, self.person)
        chosen = set(self.get_body_arguments("file"))
        said = described(self, choices)
        recipients = self.get_body_argument("recipients", "")
        try:
            groups = requestable.chosen_groups(choices, chosen, said)
            request_id = airlock.request_groups(
                self.instance,
                project_id,
                self.person,
                groups,
                recipients=recipients.replace(",", " ").split(),
            )
        except Refused:
            raise
        except TreError as problem:
            self._form(
                project_id,
                str(problem),
                400,
                chosen=chosen,
                described=said,
                recipients=recipients,
            )
            return
        airlock.submit(self.instance, request_id, self.person)
        self.redirect(f"{self.prefix()}/airlock/requests/{request_id}?done=submitted", status=303)


class AnswerForm(Page):
    """The author's answer to their request (``action``): a reply to the checkers (on the
    request or one file), files added (a group per run, as on the new request's form), a file
    replaced by a newer run's or withdrawn, the request resubmitted; or the whole request
    withdrawn. The airlock refuses anyone but its author, and any file not theirs to request."""

    def post(self, request_id: str) -> None:
        action = self.get_body_argument("action", "")
        person, instance = self.person, self.instance
        airlock.check_is_author(instance, request_id, person)
        file = self.get_body_argument("file", "")
        if action == "reply":
            text = self.get_body_argument("text", "")
            airlock.comment(instance, request_id, person, text, file=file or None)
        elif action == "add":
            self._add(request_id)
        elif action == "replace":
            by = self.get_body_argument("by", "")
            airlock.replace_file(instance, request_id, person, file, by)
        elif action == "withdraw-file":
            airlock.withdraw_file(instance, request_id, person, file)
        elif action == "resubmit":
            airlock.submit(instance, request_id, person)
        elif action == "withdraw":
            if not self.get_body_argument("sure", ""):
                raise AirlockError(
                    "tick the box that says you mean to withdraw the whole request, then press "
                    "Withdraw again"
                )
            airlock.withdraw(instance, request_id, person)
        else:
            raise AirlockError(f"an answer is one of {', '.join(ANSWERS)}, not {action!r}")
        self.redirect(f"{self.prefix()}/airlock/requests/{request_id}?done={action}", status=303)

    def _add(self, request_id: str) -> None:
        shown = airlock.show(self.instance, request_id, self.person)
        choices = requestable.by_run(self.instance, shown["project"], self.person)
        said = described(self, choices)
        held = shown["groups"]
        # a group the request holds already keeps its context and controls
        for run_id, (name, context, controls) in list(said.items()):
            if name in held:
                said[run_id] = (
                    name,
                    context or held[name]["context"],
                    controls or held[name]["controls"],
                )
        groups = requestable.chosen_groups(choices, set(self.get_body_arguments("file")), said)
        airlock.add_groups(self.instance, request_id, self.person, groups)


def answering(instance, shown: dict[str, Any], person: str) -> dict[str, Any]:
    """What the request page shows its author: whether they may answer (the request is theirs
    and a draft or returned), withdraw it, and the files of their runs they may add or put in
    place of one of the request's."""
    from output_checks.states import EDITABLE, WORKFLOW, RequestAction, RequestState

    mine = shown["author"] == person
    state = RequestState(shown["state"])
    held = {f["path"] for f in shown["files"]}
    runs = requestable.by_run(instance, shown["project"], person) if mine else []
    offered = [
        requestable.RunChoices(
            r.id,
            r.notebook,
            r.name,
            r.when,
            r.parameters,
            [f for f in r.files if f.path not in held],
        )
        for r in runs
    ]
    # for each of the request's files, the newest offered file of the same name: its new version
    suggested = {}
    for item in shown["files"]:
        name = item["path"].rsplit("/", 1)[-1]
        newer = [c.path for r in offered for c in r.files if c.file == name]
        if newer:
            suggested[item["path"]] = newer[0]
    return {
        "can_answer": mine and state in EDITABLE,
        "suggested": suggested,
        "can_withdraw": mine and WORKFLOW.can(state, RequestAction.WITHDRAW),
        "offered": [r for r in offered if r.files],
        "group_name": requestable.group_name,
    }
