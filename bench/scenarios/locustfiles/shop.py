"""The sample shop's request mix as a plain locustfile (no harness import): the same user class
for ``harness run`` (``load.locustfile`` in bench/scenarios/driver.yaml) and for bare
``locust -f``, in bench/driver_overhead.py. Eight product reads for two orders, as in
scenarios/quickstart.yaml; no think time, so the load is as much as the users can send."""

from locust import HttpUser, constant, task


class ShopUser(HttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.product = 0

    @task(8)
    def product_page(self) -> None:
        self.product = self.product % 20 + 1
        self.client.get(f"/products/{self.product}", name="GET /products/{id}", timeout=10)

    @task(2)
    def order(self) -> None:
        self.client.post("/orders", json={"product_id": 3, "quantity": 1}, name="POST /orders", timeout=10)
