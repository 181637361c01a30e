"""Load: Locust in a child process, streaming one record per request to the orchestrator.

Only the child modules ``harness.load.worker`` (the entry point), ``child`` (what every role
of the child uses), ``worker_local``, ``distributed_master``, ``distributed_worker``, ``remote``
and ``worker_users`` (run as separate processes) import locust: importing it monkey-patches the
whole process with gevent. ``distributed`` (the master/worker protocol), ``records``,
``stream``, ``open_model``, ``hook``, ``inflight``, ``clock``, ``timeouts`` and ``driver`` are
plain Python.
"""

from harness.load.driver import LoadDriver, LoadSpec
from harness.load.records import RECORD_COLUMNS, ErrorClass, RequestRecord
from harness.load.stream import LiveStats

__all__ = ["RECORD_COLUMNS", "ErrorClass", "LiveStats", "LoadDriver", "LoadSpec", "RequestRecord"]
