"""Search attributes of the lifecycle workflow, so an operator can find any service."""

from datetime import UTC, datetime, time
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate
from temporalio.service import RPCError, RPCStatusCode

from dc_workflows.contracts.lifecycle import ServiceState

COMPANY = SearchAttributeKey.for_keyword("DcCompany")
BRANCH = SearchAttributeKey.for_keyword("DcBranch")
USER_NUMBER = SearchAttributeKey.for_keyword("DcUserNumber")
WORKER = SearchAttributeKey.for_keyword("DcWorker")
STATUS = SearchAttributeKey.for_int("DcStatus")
SERVICE_DATE = SearchAttributeKey.for_datetime("DcServiceDate")

ALL = (COMPANY, BRANCH, USER_NUMBER, WORKER, STATUS, SERVICE_DATE)


async def ensure_registered(client: Client) -> list[str]:
    """Register the missing search attributes in the client's namespace; returns their names."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        known = set(listed.custom_attributes)
    except RPCError as error:  # the time-skipping test server cannot list, only add
        if error.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        known = set()
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type.value)
        for key in ALL
        if key.name not in known
    }
    added = []
    for name, value_type in missing.items():
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(
                    namespace=client.namespace, search_attributes={name: value_type}
                )
            )
            added.append(name)
        except RPCError as error:
            if error.status != RPCStatusCode.ALREADY_EXISTS:
                raise
    return added


def updates_for(
    state: ServiceState, before: ServiceState | None = None
) -> list[SearchAttributeUpdate[Any]]:
    """The values to upsert for the current state of a service: all of them, or, given the
    state last upserted, only those that changed since."""
    return [update for update in _values(state) if before is None or update not in _values(before)]


def _values(state: ServiceState) -> list[SearchAttributeUpdate[Any]]:
    parties = state.parties
    service_day = datetime.combine(state.details.service_date, time(), tzinfo=UTC)
    updates: list[SearchAttributeUpdate[Any]] = [
        COMPANY.value_set(parties.company_id),
        USER_NUMBER.value_set(parties.user_number),
        WORKER.value_set(parties.worker_login),
        STATUS.value_set(int(state.status)),
        SERVICE_DATE.value_set(service_day),
    ]
    if parties.branch_id:
        updates.append(BRANCH.value_set(parties.branch_id))
    return updates
