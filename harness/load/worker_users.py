"""Locust user classes and the open-model arrival queue of the load child (imports locust:
only the child processes import this module).

- the request mix as a user class, on Locust's ``HttpUser`` (``client: requests``) or
  ``FastHttpUser`` (``client: fast``, geventhttpclient), closed model (think time) or open model
  (one request per intended send time taken from :class:`Arrivals`);
- a user's own locustfile, imported unchanged but for the client timeout: ``request_timeout_s``
  becomes the default timeout of its users' requests (:func:`apply_request_timeout`);
- :class:`Arrivals`: the scheduler greenlet that feeds intended send times
  (:class:`harness.load.open_model.ArrivalSchedule`) into a queue the users take them from.

Requests in flight are counted in a :class:`harness.load.inflight.InFlight`: around the request
mix's own ``self.client.request``, and for a locustfile by wrapping Locust's
``HttpSession.request`` and ``FastHttpSession.request`` in the child (:func:`track_sessions`),
so that any user class built on Locust's clients is counted.
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from random import Random

import gevent
import gevent.queue
from locust import HttpUser, User, between, constant, task
from locust.clients import HttpSession
from locust.contrib.fasthttp import FastHttpSession, FastHttpUser
from locust.exception import StopUser

from harness.load.hook import ACK_KEY, INTENDED_KEY
from harness.load.inflight import InFlight, tracked
from harness.load.open_model import ArrivalSchedule

SCHEDULER_MAX_SLEEP_S = 0.05
"""The scheduler wakes at the next arrival, and at least this often to notice a rate change."""

_INT_PLACEHOLDER = re.compile(r"\{int:(-?\d+):(-?\d+)\}")
_STOP = None
"""Put in the arrival queue by :meth:`Arrivals.stop`: a user that takes it stops (and puts it
back for the next one), instead of waiting for an arrival that never comes."""


class Arrivals:
    """Intended send times for the open model, in a queue the users block on.

    Args:
        rate_fn: the rate this process must produce now, requests/s (0: none yet). Polled by the
            scheduler, so a worker's share can change when the master rebalances users.
        offset_fn: offset of this process's schedule (see
            :func:`harness.load.open_model.interleave_offset_s`), read once at the first arrival.
    """

    def __init__(self, rate_fn: Callable[[], float], offset_fn: Callable[[float], float] = lambda _rate: 0.0):
        self.rate_fn = rate_fn
        self.offset_fn = offset_fn
        self.queue: gevent.queue.Queue = gevent.queue.Queue()
        self.schedule: ArrivalSchedule | None = None
        self._greenlet: gevent.Greenlet | None = None
        self.unsent = 0

    def start(self, start_s: float, end_s: float) -> None:
        """Schedule arrivals from ``start_s`` up to (excluding) ``end_s`` (epoch s; arrivals
        already due are queued at once, with their intended times)."""
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._run, start_s, end_s)

    def _run(self, start_s: float, end_s: float) -> None:
        while True:
            rate = self.rate_fn()
            if rate > 0:
                if self.schedule is None:
                    self.schedule = ArrivalSchedule(rate, start_s, self.offset_fn(rate), end_s)
                else:
                    self.schedule.retarget(rate)
                for intended in self.schedule.due(time.time()):
                    self.queue.put_nowait(intended)
                wait = self.schedule.next_at() - time.time()
            else:
                wait = SCHEDULER_MAX_SLEEP_S
            gevent.sleep(min(max(wait, 0.0), SCHEDULER_MAX_SLEEP_S))

    def get(self) -> float:
        """Block until the next intended send time is due; return it.

        Raises:
            StopUser: the arrivals were stopped (:meth:`stop`): the user ends at once instead
                of holding the stop up until Locust's stop timeout.
        """
        intended = self.queue.get()
        if intended is _STOP:
            self.queue.put_nowait(_STOP)  # for the next user waiting
            raise StopUser()
        return intended

    def stop(self) -> int:
        """Stop scheduling; return (and keep in :attr:`unsent`) how many arrivals were still
        queued: requests the open model intended but never sent. Users waiting for an arrival
        (and any that asks later) stop; requests already sent stay in flight until they end."""
        if self._greenlet is not None:
            self._greenlet.kill(block=True)
            self._greenlet = None
        while not self.queue.empty():
            if self.queue.get_nowait() is not _STOP:
                self.unsent += 1
        self.queue.put_nowait(_STOP)
        return self.unsent

    @property
    def scheduled(self) -> int:
        """Arrivals produced so far."""
        return self.schedule.emitted if self.schedule else 0


def mix_user(spec: dict, arrivals: Arrivals | None, seed_scope: Callable[[], str] = lambda: "",
             in_flight: InFlight | None = None) -> type[User]:
    """The request mix as a user class: picks requests by weight with a seeded RNG per user.

    Args:
        spec: the load spec (``requests``, ``host``, ``client``, ``think_time_s``, ...).
        arrivals: open model: each task takes one intended send time and sends one request
            with it in its context; None: closed model with the spec's think time.
        seed_scope: extra scope of the per-user seed (the worker index in distributed mode,
            so that workers do not repeat each other's sequences).
        in_flight: counts each request while it is in flight (a private one if None).
    """
    tracker = in_flight if in_flight is not None else InFlight()
    mix = spec["requests"]
    weights = [r["weight"] for r in mix]
    timeout_s = float(spec["request_timeout_s"])
    low, high = spec["think_time_s"]
    seed = spec["seed"]
    counter = itertools.count()
    fast = spec.get("client", "requests") == "fast"
    base: type[User] = FastHttpUser if fast else HttpUser
    # FastHttpSession.request takes no timeout argument: its timeouts are class attributes.
    timeout_kwargs: dict = {} if fast else {"timeout": timeout_s}

    class MixUser(base):  # type: ignore[valid-type, misc]
        host = spec["host"]
        wait_time = constant(0) if arrivals is not None else between(low, high)
        network_timeout = timeout_s
        connection_timeout = timeout_s

        def on_start(self) -> None:
            scope = seed_scope()
            self.rng = Random(f"{seed}:{scope}user:{next(counter)}")

        @task
        def pick(self) -> None:
            context = {INTENDED_KEY: arrivals.get()} if arrivals is not None else {}
            req = self.rng.choices(mix, weights=weights)[0]
            if req.get("ack_id"):
                context[ACK_KEY] = req["ack_id"]
            path = req["path"]
            if "{int:" in path:
                path = _INT_PLACEHOLDER.sub(lambda m: str(self.rng.randint(int(m[1]), int(m[2]))), path)
            tracker.call(self.client.request, req["method"], path, name=req["name"], json=req.get("json"),
                         allow_redirects=False, headers=req.get("headers") or None, context=context, **timeout_kwargs)

    return MixUser


def locustfile_users(path: str) -> list[type[User]]:
    """Import a user's locustfile and return its concrete User classes (unchanged code).

    ``path`` should be absolute (the run resolves the scenario's ``load.locustfile`` against the
    scenario's directory); a relative one is taken from the working directory. The locustfile's
    own directory goes first on ``sys.path``, so it can import the modules beside it."""
    path = str(Path(path).resolve())
    module_spec = importlib.util.spec_from_file_location("harness_user_locustfile", path)
    if module_spec is None or module_spec.loader is None:
        raise RuntimeError(f"cannot import locustfile {path}")
    module = importlib.util.module_from_spec(module_spec)
    sys.path.insert(0, str(Path(path).parent))
    module_spec.loader.exec_module(module)
    users = [
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, User) and v.__module__ == module.__name__ and not v.abstract
    ]
    if not users:
        raise RuntimeError(f"locustfile {path} defines no User class")
    return users


def _inherits_from(user: type, attr: str, base: type) -> bool:
    """Whether ``user`` gets ``attr`` from ``base`` itself (no class between them sets it)."""
    return next((c for c in user.__mro__ if attr in vars(c)), None) is base


def _with_default_timeout(request: Callable[..., object], timeout_s: float) -> Callable[..., object]:
    """``request`` (an ``HttpSession``'s bound ``request``) passing ``timeout=timeout_s`` to each
    call that gives no ``timeout`` of its own."""

    @functools.wraps(request)
    def request_with_timeout(*args: object, **kwargs: object) -> object:
        if "timeout" not in kwargs:
            kwargs["timeout"] = timeout_s
        return request(*args, **kwargs)

    request_with_timeout.__harness_timeout__ = timeout_s  # type: ignore[attr-defined]
    return request_with_timeout


def apply_request_timeout(users: list[type[User]], timeout_s: float) -> None:
    """Make ``timeout_s`` (the load's ``request_timeout_s``) the client timeout of a locustfile's
    user classes, as the request mix has it; what the locustfile sets itself is kept.

    - ``FastHttpUser`` subclasses: ``network_timeout`` and ``connection_timeout`` (Locust's
      default is 60 s), each unless a class of the locustfile sets it;
    - ``HttpUser`` subclasses (``requests``: no timeout at all by default): every request of the
      user's ``self.client`` that passes no ``timeout=`` gets ``timeout=timeout_s`` (the session's
      ``request`` is wrapped on the instance, after the user's own ``__init__``);
    - other user classes (their own clients) are left as they are.

    Changes the classes (the load child imports the locustfile for itself); applying it twice
    does not wrap twice.
    """
    for user in users:
        if issubclass(user, FastHttpUser):
            for attr in ("network_timeout", "connection_timeout"):
                if _inherits_from(user, attr, FastHttpUser):
                    setattr(user, attr, timeout_s)
        elif issubclass(user, HttpUser) and not getattr(user.__init__, "__harness_timeout__", None):
            original_init = user.__init__

            @functools.wraps(original_init)
            def init_with_timeout(self: HttpUser, *args: object, _init: Callable[..., None] = original_init,
                                  **kwargs: object) -> None:
                _init(self, *args, **kwargs)
                client = getattr(self, "client", None)
                if isinstance(client, HttpSession) and not getattr(client.request, "__harness_timeout__", None):
                    client.request = _with_default_timeout(client.request, timeout_s)  # type: ignore[method-assign]

            init_with_timeout.__harness_timeout__ = timeout_s  # type: ignore[attr-defined]
            user.__init__ = init_with_timeout  # type: ignore[method-assign]


def track_sessions(in_flight: InFlight) -> None:
    """Count every request of Locust's clients (``HttpSession`` and ``FastHttpSession``) in
    ``in_flight``, whatever user class sends it. Patches the classes: call it in the load child
    only; calling it again moves the counting to the new tracker."""
    for session in (HttpSession, FastHttpSession):
        session.request = tracked(session.request, in_flight)  # type: ignore[method-assign]


def user_classes(spec: dict, arrivals: Arrivals | None, seed_scope: Callable[[], str] = lambda: "",
                 in_flight: InFlight | None = None) -> list[type[User]]:
    """The user classes the spec asks for: its locustfile's (with ``host`` defaulted to the
    spec's, ``request_timeout_s`` as their client timeout: :func:`apply_request_timeout`, and
    Locust's client sessions counted in ``in_flight``: :func:`track_sessions`) or the request mix
    (counting its requests in ``in_flight``)."""
    if spec.get("locustfile"):
        if in_flight is not None:
            track_sessions(in_flight)
        users = locustfile_users(spec["locustfile"])
        for user in users:
            if not getattr(user, "host", None):
                user.host = spec["host"]
        apply_request_timeout(users, float(spec["request_timeout_s"]))
        return users
    return [mix_user(spec, arrivals, seed_scope, in_flight)]
