"""Imports service: asynchronous imports of services and workers from files.

Not built yet: see the issue "Imports of services and workers". This package only reserves its
place in the workspace.
"""
