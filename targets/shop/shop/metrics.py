"""Prometheus metrics of the api, served as text on ``GET /metrics``.

Each api replica has its own counters (process-local default registry), so a
scrape through the load balancer shows one replica at a time.
"""

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "shop_http_requests_total",
    "HTTP requests handled, by route template, method and status code.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "shop_http_request_duration_seconds",
    "Server-side request duration in seconds, by route template.",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0),
)
IN_FLIGHT = Gauge("shop_in_flight_requests", "Requests currently in progress.")
REJECTED = Counter(
    "shop_rejected_requests_total",
    "Requests refused: 503 by load shedding (reason overloaded), 429 by the rate limit (rate_limited).",
    ["reason"],
)
RETRIES = Counter(
    "shop_dependency_retries_total",
    "Retries (not first attempts) of idempotent dependency calls.",
    ["dependency"],
)
FALLBACKS = Counter(
    "shop_fallbacks_total",
    "Responses served from the last-known-good cache instead of the dependency.",
    ["dependency"],
)
BREAKER_STATE = Gauge(
    "shop_circuit_breaker_state",
    "Circuit breaker state: 0 closed, 1 open, 2 half-open.",
    ["dependency"],
)
BREAKER_TRANSITIONS = Counter(
    "shop_circuit_breaker_transitions_total",
    "Circuit breaker state changes.",
    ["dependency", "from_state", "to_state"],
)
PROFILE = Gauge("shop_profile_info", "Active resilience profile (value is always 1).", ["profile"])
