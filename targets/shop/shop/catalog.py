"""Catalog service: a fixed, deterministic set of products with ids 1..100.

Endpoints: ``GET /health`` and ``GET /products/{id}`` (404 for unknown ids).
Run with ``python3 -m shop.catalog``; listens on ``SHOP_PORT`` (default 8080).
Faults (latency, resets, ...) are injected in front of it by Toxiproxy, not here.
"""

from __future__ import annotations

import logging

from aiohttp import web

from .config import Settings

PRODUCT_COUNT = 100
_ADJECTIVES = ("Red", "Blue", "Quiet", "Rapid", "Solid", "Tiny", "Grand", "Smart", "Handy", "Classic")
_NOUNS = ("Kettle", "Lamp", "Backpack", "Mug", "Chair", "Headset", "Notebook", "Umbrella", "Clock", "Bottle")
_CATEGORIES = ("kitchen", "home", "outdoor", "office")


def make_product(product_id: int) -> dict:
    """The product with ``product_id``: same input, same output, on every replica and run."""
    return {
        "id": product_id,
        "name": f"{_ADJECTIVES[product_id % 10]} {_NOUNS[(product_id // 10) % 10]}",
        "category": _CATEGORIES[product_id % len(_CATEGORIES)],
        "price_cents": 499 + (product_id * 371) % 9500,
        "currency": "EUR",
        "stock": (product_id * 17) % 50,
    }


PRODUCTS = {i: make_product(i) for i in range(1, PRODUCT_COUNT + 1)}


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "UP", "products": len(PRODUCTS)})


async def get_product(request: web.Request) -> web.Response:
    product = PRODUCTS.get(int(request.match_info["id"]))
    if product is None:
        return web.json_response({"error": "not found"}, status=404)
    return web.json_response(product)


def create_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get(r"/products/{id:\d+}", get_product)
    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    logging.getLogger("shop.catalog").info("catalog listening on :%d", settings.port)
    web.run_app(
        create_app(),
        host="0.0.0.0",
        port=settings.port,
        access_log=logging.getLogger("aiohttp.access") if settings.access_log else None,
        print=None,
    )


if __name__ == "__main__":
    main()
