"""Workflow ids derived from business keys: the one place where they are built."""

SERVICE_PREFIX = "service-"


def service_workflow_id(service_id: str) -> str:
    return f"{SERVICE_PREFIX}{service_id}"


def import_workflow_id(content_hash: str) -> str:
    return f"import-{content_hash}"


def wallet_change_workflow_id(kind: str, key: str) -> str:
    return f"wallet-{kind}-{key}"
