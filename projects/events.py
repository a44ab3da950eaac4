"""The audit events the registry records: one name per event, as stored in the audit log."""

from __future__ import annotations

from enum import StrEnum

from projects.states import ProjectAction


class RegistryEvent(StrEnum):
    ORGANISATION_ADD = "organisation.add"
    PERSON_ADD = "person.add"
    PERSON_ACCREDIT = "person.accredit"
    PERSON_SUSPEND = "person.suspend"
    PERSON_REINSTATE = "person.reinstate"
    GATEWAY_ADD = "gateway.add"
    DATASET_REGISTER = "dataset.register"
    AGREEMENT_ADD = "agreement.add"
    PROJECT_REGISTER = "project.register"
    PROJECT_ACCEPT_TERMS = "project.accept_terms"
    PROJECT_DATA_USE_APPROVE = "project.data_use.approve"
    PROJECT_DATA_USE_REFUSE = "project.data_use.refuse"
    # the lifecycle's moves (projects.states); both kinds of amendment are recorded as amend,
    # with the amendment's kind and changes in the event's details
    PROJECT_SUBMIT = "project.submit"
    PROJECT_APPROVE = "project.approve"
    PROJECT_REFUSE = "project.refuse"
    PROJECT_AMEND = "project.amend"
    PROJECT_ACTIVATE = "project.activate"
    PROJECT_EXPIRE = "project.expire"
    PROJECT_SUSPEND = "project.suspend"
    PROJECT_REINSTATE = "project.reinstate"
    PROJECT_CLOSE = "project.close"


EVENT_OF_MOVE: dict[ProjectAction, RegistryEvent] = {
    ProjectAction.SUBMIT: RegistryEvent.PROJECT_SUBMIT,
    ProjectAction.APPROVE: RegistryEvent.PROJECT_APPROVE,
    ProjectAction.REFUSE: RegistryEvent.PROJECT_REFUSE,
    ProjectAction.AMEND: RegistryEvent.PROJECT_AMEND,
    ProjectAction.AMEND_WIDENING: RegistryEvent.PROJECT_AMEND,
    ProjectAction.ACTIVATE: RegistryEvent.PROJECT_ACTIVATE,
    ProjectAction.EXPIRE: RegistryEvent.PROJECT_EXPIRE,
    ProjectAction.SUSPEND: RegistryEvent.PROJECT_SUSPEND,
    ProjectAction.REINSTATE: RegistryEvent.PROJECT_REINSTATE,
    ProjectAction.CLOSE: RegistryEvent.PROJECT_CLOSE,
}
