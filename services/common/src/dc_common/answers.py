"""HTTP answers built from rows: each field of the answer from the row's attribute of the same
name, so an API's shaping code names only what it computes."""

from typing import Any, TypeVar

from pydantic import BaseModel

Answer = TypeVar("Answer", bound=BaseModel)

#: The highest page number a list answers by number (deeper pages are reached by cursor): a
#: larger one is refused as bad input instead of overflowing the database's OFFSET.
MAX_PAGE = 1_000_000
#: The same bound for a list read by offset (pages of at most 500).
MAX_OFFSET = MAX_PAGE * 500
#: The largest row id a database keeps (a signed 64-bit integer): a larger one is bad input.
MAX_ROW_ID = 2**63 - 1


def answer(model: type[Answer], source: object, **computed: Any) -> Answer:
    """``model`` from ``source``: the fields given in ``computed``, the others from the
    attributes of the same name (a field with a default may have no attribute)."""
    values = dict(computed)
    for name, field in model.model_fields.items():
        if name in values:
            continue
        if hasattr(source, name):
            values[name] = getattr(source, name)
        elif field.is_required():
            raise AttributeError(f"{type(source).__name__} has no {name} for {model.__name__}")
    return model.model_validate(values)
