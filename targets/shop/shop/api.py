"""Shop api service: products (via the catalog service) and orders (in Redis).

Endpoints: ``GET /products/{id}``, ``POST /orders``, ``GET /orders/{id}``,
``GET /health``, ``GET /metrics``. Run with ``python3 -m shop.api``.

Behaviour depends on ``SHOP_PROFILE`` (see :mod:`shop.config`):

* ``naive``: no timeouts, no retries, no breaker, no load shedding, no
  fallback; dependency errors surface as 500s or hangs.
* ``resilient``: catalog and redis timeouts, jittered retries of idempotent
  calls, a circuit breaker plus last-known-good fallback for the catalog, and
  an in-flight limit that sheds excess load with a fast 503.

Connections to the catalog and Redis are lazy, so the api starts (and
reports 503 on /health) while its dependencies are still unreachable.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import time
import uuid

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError

from . import metrics as m
from .config import Settings
from .resilience import BreakerOpen, CircuitBreaker, InFlightLimiter, retry

log = logging.getLogger("shop.api")

#: Orders expire after this many seconds so long load tests cannot fill Redis.
ORDER_TTL_S = 3600
#: Paths never refused by load shedding: the LB must keep seeing real health.
SHEDDING_EXEMPT = ("/health", "/metrics")


class CatalogError(Exception):
    """The catalog answered with an unexpected status (5xx etc.)."""


class CatalogUnavailable(Exception):
    """Catalog failed (after retries) or its breaker is open."""


CATALOG_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, CatalogError, ValueError)
REDIS_ERRORS = (RedisError, OSError, asyncio.TimeoutError)


class Dependencies:
    """Catalog and Redis clients configured for the active profile."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.session: aiohttp.ClientSession | None = None
        self.redis: aioredis.Redis | None = None
        self.breaker: CircuitBreaker | None = None
        #: last good copy of each product, by id (resilient fallback)
        self.cache: dict[int, dict] = {}
        if settings.resilient:
            self.breaker = CircuitBreaker(
                settings.breaker_failure_threshold, settings.breaker_open_s, self._on_breaker_transition
            )
            m.BREAKER_STATE.labels("catalog").set(CircuitBreaker.CLOSED)

    async def start(self) -> None:
        s = self.settings
        if s.resilient:
            # Per attempt: TCP connect <= connect timeout, each wait for data <=
            # read timeout, and the whole attempt <= connect + read.
            timeout = aiohttp.ClientTimeout(
                total=s.catalog_connect_timeout_s + s.catalog_read_timeout_s,
                sock_connect=s.catalog_connect_timeout_s,
                sock_read=s.catalog_read_timeout_s,
            )
            redis_timeouts = {"socket_connect_timeout": s.redis_connect_timeout_s, "socket_timeout": s.redis_timeout_s}
        else:
            timeout = aiohttp.ClientTimeout(total=None, connect=None, sock_connect=None, sock_read=None)
            redis_timeouts = {"socket_connect_timeout": None, "socket_timeout": None}
        self.session = aiohttp.ClientSession(timeout=timeout)
        self.redis = aioredis.Redis(host=s.redis_host, port=s.redis_port, retry_on_timeout=False, **redis_timeouts)

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
        if self.redis is not None:
            await self.redis.close()
            await self.redis.connection_pool.disconnect()

    @staticmethod
    def _on_breaker_transition(old: int, new: int) -> None:
        names = CircuitBreaker.NAMES
        log.warning("catalog circuit breaker %s -> %s", names[old], names[new])
        m.BREAKER_STATE.labels("catalog").set(new)
        m.BREAKER_TRANSITIONS.labels("catalog", names[old], names[new]).inc()

    # -- catalog -----------------------------------------------------------

    async def catalog_get(self, path: str) -> dict | None:
        """One GET to the catalog: the JSON body, None on 404, CatalogError on other statuses."""
        async with self.session.get(self.settings.catalog_url + path) as resp:
            if resp.status == 404:
                return None
            if resp.status != 200:
                raise CatalogError(f"catalog answered {resp.status} for {path}")
            return await resp.json()

    async def _guarded_catalog_get(self, path: str) -> dict | None:
        """One catalog attempt through the breaker (raises BreakerOpen when rejected)."""
        probe = self.breaker.acquire()
        try:
            result = await self.catalog_get(path)
        except CATALOG_ERRORS:
            self.breaker.record_failure(probe)
            raise
        except BaseException:  # cancelled because the client went away: probe result unknown
            if probe:
                self.breaker.record_failure(probe)
            raise
        self.breaker.record_success(probe)
        return result

    async def product(self, product_id: int) -> dict | None:
        """Resilient product lookup: retries + breaker; raises CatalogUnavailable."""
        s = self.settings
        try:
            return await retry(
                lambda: self._guarded_catalog_get(f"/products/{product_id}"),
                attempts=s.retry_max_attempts,
                base_s=s.retry_base_s,
                cap_s=s.retry_cap_s,
                retry_on=CATALOG_ERRORS,
                on_retry=m.RETRIES.labels("catalog").inc,
            )
        except (BreakerOpen, *CATALOG_ERRORS) as exc:
            raise CatalogUnavailable(str(exc) or type(exc).__name__) from exc

    async def catalog_health(self) -> str:
        """Return "up", or "degraded" (resilient) / "down" (naive). Not counted by the breaker."""
        failed = "degraded" if self.settings.resilient else "down"
        if self.breaker is not None and self.breaker.state == CircuitBreaker.OPEN:
            return failed
        try:
            await self.catalog_get("/health")
            return "up"
        except CATALOG_ERRORS:
            return failed

    # -- redis -------------------------------------------------------------

    async def redis_call(self, method: str, *args, **kwargs):
        """Run one Redis command shielded from request cancellation.

        A client disconnect cancels the handler; the shield lets the command
        finish so its reply is never left unread on a pooled connection.
        """
        return await asyncio.shield(getattr(self.redis, method)(*args, **kwargs))

    async def redis_health(self) -> str:
        try:
            await self.redis_call("ping")
            return "up"
        except REDIS_ERRORS:
            return "down"


def _deps(request: web.Request) -> Dependencies:
    return request.app["deps"]


# -- handlers ----------------------------------------------------------------


async def get_product(request: web.Request) -> web.Response:
    deps = _deps(request)
    product_id = int(request.match_info["id"])
    if not deps.settings.resilient:
        product = await deps.catalog_get(f"/products/{product_id}")  # errors -> 500
        source = "catalog"
    else:
        try:
            product = await deps.product(product_id)
            source = "catalog"
            if product is not None:
                deps.cache[product_id] = product
        except CatalogUnavailable as exc:
            product = deps.cache.get(product_id)
            if product is None:
                return web.json_response({"error": "catalog unavailable", "detail": str(exc)}, status=503)
            m.FALLBACKS.labels("catalog").inc()
            source = "fallback"
    if product is None:
        return web.json_response({"error": "not found"}, status=404)
    return web.json_response({**product, "source": source})


async def create_order(request: web.Request) -> web.Response:
    """Store the order in Redis; 201 only once Redis acknowledged the SET. Never retried."""
    deps = _deps(request)
    raw = await request.read()
    try:
        payload = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return web.json_response({"error": "body must be JSON"}, status=400)
    if not isinstance(payload, dict):
        return web.json_response({"error": "body must be a JSON object"}, status=400)
    order_id = str(uuid.uuid4())
    order = {"id": order_id, "created_at": time.time(), "order": payload}
    write = deps.redis_call("set", f"order:{order_id}", json.dumps(order), ex=ORDER_TTL_S)
    if not deps.settings.resilient and deps.settings.naive_writes == "fire-and-forget":
        # seed 002 "8. Unhandled Promise Rejections": acknowledged before it is stored; a failed
        # write is only logged, and the client was already told 201
        task = asyncio.ensure_future(write)
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return web.json_response({"id": order_id}, status=201)
    if not deps.settings.resilient:
        await write  # errors -> 500, no timeout -> may hang
    else:
        try:
            await write
        except REDIS_ERRORS as exc:
            return web.json_response({"error": "redis unavailable", "detail": str(exc)}, status=503)
    return web.json_response({"id": order_id}, status=201)


async def get_order(request: web.Request) -> web.Response:
    deps = _deps(request)
    key = f"order:{request.match_info['id']}"
    s = deps.settings
    if not s.resilient:
        raw = await deps.redis_call("get", key)
    else:
        try:
            raw = await retry(
                lambda: deps.redis_call("get", key),
                attempts=s.retry_max_attempts,
                base_s=s.retry_base_s,
                cap_s=s.retry_cap_s,
                retry_on=REDIS_ERRORS,
                on_retry=m.RETRIES.labels("redis").inc,
            )
        except REDIS_ERRORS as exc:
            return web.json_response({"error": "redis unavailable", "detail": str(exc)}, status=503)
    if raw is None:
        return web.json_response({"error": "not found"}, status=404)
    return web.json_response(json.loads(raw))


async def health(request: web.Request) -> web.Response:
    """200 UP, or 503 DOWN naming the failed hard dependency (redis first).

    resilient: redis is hard, catalog soft (fallback exists) -> "degraded".
    naive: both hard, checked without timeouts.
    """
    deps = _deps(request)
    redis_state, catalog_state = await asyncio.gather(deps.redis_health(), deps.catalog_health())
    body = {"status": "UP", "profile": deps.settings.profile, "redis": redis_state, "catalog": catalog_state}
    down = next((name for name, state in (("redis", redis_state), ("catalog", catalog_state)) if state == "down"), None)
    if down is None:
        return web.json_response(body)
    body.update(status="DOWN", down=down)
    return web.json_response(body, status=503)


async def metrics_endpoint(request: web.Request) -> web.Response:
    breaker = _deps(request).breaker
    if breaker is not None:
        m.BREAKER_STATE.labels("catalog").set(breaker.state)  # reading state applies OPEN -> HALF_OPEN
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


# -- middlewares -------------------------------------------------------------


@web.middleware
async def observe(request: web.Request, handler) -> web.StreamResponse:
    """Count every request by route template/method/status and time it (seconds)."""
    resource = request.match_info.route.resource
    endpoint = resource.canonical if resource is not None else "unmatched"
    started = time.perf_counter()
    status = 500
    m.IN_FLIGHT.inc()
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = 499  # client closed the connection
        raise
    finally:
        m.IN_FLIGHT.dec()
        m.REQUESTS.labels(endpoint, request.method, str(status)).inc()
        m.LATENCY.labels(endpoint).observe(time.perf_counter() - started)


def request_log(settings: Settings):
    """Keep a record of recent requests in memory (method, path, headers, time). Resilient: a
    ring of ``request_log_max`` entries. Naive: an unbounded list, the seeds' memory leak."""
    log: collections.deque | list = (collections.deque(maxlen=settings.request_log_max)
                                     if settings.resilient else [])

    @web.middleware
    async def middleware(request: web.Request, handler) -> web.StreamResponse:
        log.append({"t": time.time(), "method": request.method, "path": request.path_qs,
                    "headers": dict(request.headers), "pad": "x" * 8192})
        return await handler(request)

    return middleware


def rate_limit(limit_rps: int):
    """At most ``limit_rps`` requests per second per replica (a token bucket refilled
    continuously, burst = one second's worth); the excess gets 429 + Retry-After: 1."""
    state = {"tokens": float(limit_rps), "at": time.monotonic()}

    @web.middleware
    async def middleware(request: web.Request, handler) -> web.StreamResponse:
        if request.path in SHEDDING_EXEMPT:
            return await handler(request)
        now = time.monotonic()
        state["tokens"] = min(float(limit_rps), state["tokens"] + (now - state["at"]) * limit_rps)
        state["at"] = now
        if state["tokens"] < 1:
            m.REJECTED.labels("rate_limited").inc()
            return web.json_response({"error": "rate limited"}, status=429, headers={"Retry-After": "1"})
        state["tokens"] -= 1
        return await handler(request)

    return middleware


def shed_load(limiter: InFlightLimiter):
    """Refuse requests beyond ``limiter.limit`` in flight with 503 + Retry-After: 1 (no queueing)."""

    @web.middleware
    async def middleware(request: web.Request, handler) -> web.StreamResponse:
        if request.path in SHEDDING_EXEMPT:
            return await handler(request)
        if not limiter.try_acquire():
            m.REJECTED.labels("overloaded").inc()
            return web.json_response({"error": "overloaded"}, status=503, headers={"Retry-After": "1"})
        try:
            return await handler(request)
        finally:
            limiter.release()

    return middleware


# -- app -----------------------------------------------------------------------


def create_app(settings: Settings) -> web.Application:
    middlewares = [observe, request_log(settings)]
    if settings.resilient and settings.rate_limit_rps > 0:
        middlewares.append(rate_limit(settings.rate_limit_rps))
    if settings.resilient:
        middlewares.append(shed_load(InFlightLimiter(settings.max_in_flight)))
    app = web.Application(middlewares=middlewares)
    deps = app["deps"] = Dependencies(settings)
    m.PROFILE.labels(settings.profile).set(1)

    async def lifecycle(_app: web.Application):
        await deps.start()
        yield
        await deps.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_get(r"/products/{id:\d+}", get_product)
    app.router.add_post("/orders", create_order)
    app.router.add_get("/orders/{id}", get_order)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics_endpoint)
    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    log.info("api starting: %s", settings)
    web.run_app(
        create_app(settings),
        host="0.0.0.0",
        port=settings.port,
        access_log=logging.getLogger("aiohttp.access") if settings.access_log else None,
        print=None,
    )


if __name__ == "__main__":
    main()
