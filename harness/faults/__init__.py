"""Fault injectors: one module per kind, a registry, and the ``inject -> revert`` contract.

Public surface: :class:`Fault`, :class:`FaultContext`, :class:`ContainerActions`,
:func:`register`, :func:`fault_kinds`, :func:`fault_for`. Each kind's spec (what a scenario may
say) is in :mod:`harness.scenario.faults`; concrete kinds live in their own modules here and
register themselves; nothing here names one.
"""

from harness.faults.base import Fault
from harness.faults.context import ContainerActions, FaultContext
from harness.faults.registry import fault_for, fault_kinds, register

__all__ = ["ContainerActions", "Fault", "FaultContext", "fault_for", "fault_kinds", "register"]
