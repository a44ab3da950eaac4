"""Notifications: the author, the checkers and the recipients of a request told of each step.

A step (submitted, returned, approved, released, rejected, and the author's reply: "replied
to") is told to each person concerned but the one who took it: a row in the service
(``/notifications``, counted in the nav), written in the step's own transaction, and an e-mail
when ``[notify] smtp_host`` names an SMTP server, sent
only once that transaction has committed (an e-mail never announces a step that rolled back). A
server that cannot be reached costs the e-mail, never the step: the failure is logged.

Nothing a workspace wrote (the author's replies, a request's context and controls, its files'
names) is ever put in a notification or an e-mail: they say that it happened and where to read
it (the request's page, behind the sign-in), so no workspace text leaves by mail.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage

from sqlalchemy.orm import Session

from output_checks import data
from output_checks.data import ReleaseRequest
from projects import registry
from projects.errors import RegistryError
from projects.policy import PolicyAction, Role, can
from tre.audit import utc_now
from tre.instance import Instance

log = logging.getLogger(__name__)


@dataclass
class Outbox:
    """The notifications of one transaction, and the e-mails to send once it commits."""

    emails: list[EmailMessage] = field(default_factory=list)

    def tell(
        self,
        session: Session,
        people: Iterable[str],
        found: ReleaseRequest,
        step: str,
        text: str,
        actor: str,
    ) -> None:
        """Tell PEOPLE (but ACTOR) that FOUND reached STEP, in TEXT."""
        for person in sorted(set(people) - {actor}):
            data.add_notification(session, person, found, step, text, utc_now())
            try:
                address = registry.person(session, person).email
            except RegistryError:
                continue
            if address:
                message = EmailMessage()
                message["To"] = address
                message["Subject"] = f"tre-kit: release request {found.id} {step}"
                message.set_content(
                    f"{text}\n\nProject {found.project_id}. Open the tre pages and choose "
                    f"Notifications, or go to {page(found.id, step)} on them.\n"
                )
                self.emails.append(message)


def page(request_id: str, step: str) -> str:
    """The page (under the tre pages' prefix) a notification of STEP on REQUEST_ID links to:
    the release's for a release, else the request's."""
    return f"/airlock/{'releases' if step == 'released' else 'requests'}/{request_id}"


@contextmanager
def outbox(instance: Instance) -> Iterator[Outbox]:
    """An outbox for a step: its e-mails are sent when the block (whose transaction is inside
    it) ends without an error."""
    box = Outbox()
    yield box
    send(instance, box.emails)


def send(instance: Instance, emails: list[EmailMessage]) -> None:
    """Send EMAILS through the SMTP server of ``[notify]`` (none: nothing is sent)."""
    settings = instance.settings.notify
    if not settings.smtp_host or not emails:
        return
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            if settings.starttls:
                smtp.starttls()
            for message in emails:
                message["From"] = settings.sender
                smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning(
            "notification e-mails not sent (%d): the SMTP server %s:%s answered %s",
            len(emails),
            settings.smtp_host,
            settings.smtp_port,
            exc,
        )


def checkers_of(session: Session, found: ReleaseRequest) -> list[str]:
    """The people who may review FOUND now: output checkers of its project, never its author
    (the policy engine decides, asked only of people who hold the output checker's role)."""
    return [
        p.username
        for p in registry.people(session)
        if p.username != found.author
        and Role.OUTPUT_CHECKER in p.role_names
        and can(session, p.username, PolicyAction.REVIEW_RELEASE, found.project_id)
    ]


def unread(instance: Instance, person: str) -> int:
    """How many notifications PERSON has not read (the nav's count)."""
    with instance.db.session() as session:
        return len(data.notifications_of(session, person, unread=True))


def notifications(instance: Instance, person: str) -> list[dict]:
    """PERSON's notifications, newest first."""
    with instance.db.session() as session:
        return [
            {
                "request": n.request_id,
                "step": n.step,
                "text": n.text,
                "page": page(n.request_id, n.step),
                "at": n.at,
                "read": n.read,
            }
            for n in data.notifications_of(session, person)
        ]


def mark_read(instance: Instance, person: str) -> None:
    with instance.db.session() as session:
        data.read_notifications(session, person)
