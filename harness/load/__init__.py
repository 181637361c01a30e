"""Load: Locust in a child process, streaming one record per request to the orchestrator.

Only ``harness.load.worker`` (run as a separate process) imports locust: importing it
monkey-patches the whole process with gevent.
"""

from harness.load.driver import LoadDriver, LoadSpec
from harness.load.records import RECORD_COLUMNS, ErrorClass, RequestRecord

__all__ = ["RECORD_COLUMNS", "ErrorClass", "LoadDriver", "LoadSpec", "RequestRecord"]
