"""Contracts shared by the workflows and the services' activities, one module per domain.

Everything that crosses a process boundary through Temporal is one of these pydantic models, and
every activity is called by the name defined here, on the task queue defined in ``common``, so
workflows never import service code.
"""
