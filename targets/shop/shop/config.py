"""Settings for the shop services, read from environment variables.

All durations are given in the environment in **milliseconds** (``*_MS``) and
stored here in **seconds** (``*_s``), because asyncio, aiohttp and redis-py
take seconds. The defaults are the ``resilient`` numbers documented in
``targets/README.md``; in the ``naive`` profile none of them is used (no
timeouts, no retries, no breaker, no load shedding, no fallback).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

PROFILES = ("naive", "resilient")


def _ms(env: Mapping[str, str], name: str, default_ms: float) -> float:
    """Read ``name`` as milliseconds (must be > 0) and return seconds."""
    value = float(env.get(name, default_ms))
    if value <= 0:
        raise ValueError(f"{name} must be > 0 ms, got {value}")
    return value / 1000.0


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    value = int(env.get(name, default))
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, choices[0]).strip().lower() or choices[0]
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """Runtime configuration of the api (and the listen port of the catalog)."""

    profile: str = "resilient"
    port: int = 8080
    access_log: bool = False
    catalog_url: str = "http://catalog:8080"
    redis_host: str = "redis"
    redis_port: int = 6379
    # catalog HTTP client, per attempt (SHOP_CATALOG_*_TIMEOUT_MS)
    catalog_connect_timeout_s: float = 0.5
    catalog_read_timeout_s: float = 0.25
    # retries of idempotent calls (SHOP_RETRY_*): attempts counts the first try
    retry_max_attempts: int = 2
    retry_base_s: float = 0.05
    retry_cap_s: float = 0.5
    # circuit breaker around the catalog (SHOP_BREAKER_*)
    breaker_failure_threshold: int = 5
    breaker_open_s: float = 5.0
    # redis client sockets (SHOP_REDIS_*_TIMEOUT_MS)
    redis_connect_timeout_s: float = 0.5
    redis_timeout_s: float = 0.5
    # load shedding: concurrent requests per replica (SHOP_MAX_IN_FLIGHT)
    max_in_flight: int = 64
    # rate limit per replica, requests/s over the limit get 429 (SHOP_RATE_LIMIT_RPS; 0 = off)
    rate_limit_rps: int = 0
    # recent-request log kept in memory: resilient keeps the last N (SHOP_REQUEST_LOG_MAX), naive
    # keeps everything (the seeds' "cache that grows forever")
    request_log_max: int = 200
    # naive only: "fire-and-forget" acknowledges an order before Redis has it (SHOP_NAIVE_WRITES)
    naive_writes: str = "sync"

    @property
    def resilient(self) -> bool:
        return self.profile == "resilient"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """Build settings from ``env`` (default ``os.environ``); raise ValueError on bad input."""
        env = os.environ if env is None else env
        profile = env.get("SHOP_PROFILE", "resilient").strip().lower() or "resilient"
        if profile not in PROFILES:
            raise ValueError(f"SHOP_PROFILE must be one of {PROFILES}, got {profile!r}")
        return cls(
            profile=profile,
            port=_int(env, "SHOP_PORT", 8080),
            access_log=env.get("SHOP_ACCESS_LOG", "0").lower() in ("1", "true", "yes"),
            catalog_url=env.get("CATALOG_URL", cls.catalog_url).rstrip("/"),
            redis_host=env.get("REDIS_HOST", cls.redis_host),
            redis_port=_int(env, "REDIS_PORT", 6379),
            catalog_connect_timeout_s=_ms(env, "SHOP_CATALOG_CONNECT_TIMEOUT_MS", 500),
            catalog_read_timeout_s=_ms(env, "SHOP_CATALOG_READ_TIMEOUT_MS", 250),
            retry_max_attempts=_int(env, "SHOP_RETRY_MAX_ATTEMPTS", 2),
            retry_base_s=_ms(env, "SHOP_RETRY_BASE_MS", 50),
            retry_cap_s=_ms(env, "SHOP_RETRY_CAP_MS", 500),
            breaker_failure_threshold=_int(env, "SHOP_BREAKER_FAILURES", 5),
            breaker_open_s=_ms(env, "SHOP_BREAKER_OPEN_MS", 5000),
            redis_connect_timeout_s=_ms(env, "SHOP_REDIS_CONNECT_TIMEOUT_MS", 500),
            redis_timeout_s=_ms(env, "SHOP_REDIS_TIMEOUT_MS", 500),
            max_in_flight=_int(env, "SHOP_MAX_IN_FLIGHT", 64),
            rate_limit_rps=_int(env, "SHOP_RATE_LIMIT_RPS", 0, minimum=0),
            request_log_max=_int(env, "SHOP_REQUEST_LOG_MAX", 200),
            naive_writes=_choice(env, "SHOP_NAIVE_WRITES", ("sync", "fire-and-forget")),
        )
