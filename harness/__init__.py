"""harness: prove that a service's resilience patterns hold under real faults.

The pipe: scenario -> environment -> faults + load -> journal -> analysis -> reports.
"""

__version__ = "0.1.0"
