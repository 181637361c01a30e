"""Fault kinds: one module per kind, a registry, and the ``validate -> inject -> revert`` contract.

Public surface: :class:`FaultSpec`, :class:`Fault`, :class:`FaultContext`, :func:`register`,
:func:`fault_kinds`, :func:`fault_for`. Concrete kinds live in their own modules and register
themselves; nothing here names one.
"""

from harness.faults.base import Fault, FaultContext, FaultSpec, NetworkFaultSpec, Stream
from harness.faults.registry import fault_for, fault_kinds, fault_spec_types, register

__all__ = [
    "Fault",
    "FaultContext",
    "FaultSpec",
    "NetworkFaultSpec",
    "Stream",
    "fault_for",
    "fault_kinds",
    "fault_spec_types",
    "register",
]
