"""The audit events the registry records: one name per event, as stored in the audit log."""

from __future__ import annotations

from enum import StrEnum


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
    # the lifecycle's moves (projects.states); both kinds of amendment are recorded as amend
    PROJECT_SUBMIT = "project.submit"
    PROJECT_APPROVE = "project.approve"
    PROJECT_REFUSE = "project.refuse"
    PROJECT_AMEND = "project.amend"
    PROJECT_ACTIVATE = "project.activate"
    PROJECT_EXPIRE = "project.expire"
    PROJECT_SUSPEND = "project.suspend"
    PROJECT_REINSTATE = "project.reinstate"
    PROJECT_CLOSE = "project.close"
