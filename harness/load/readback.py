"""Read acknowledged writes back after the load, for the ``no_data_loss`` check.

During the load, every response to a request with ``ack_id`` set (2xx, JSON body) has that
field's value appended to ``acked.tsv`` (``name<TAB>id``). After the load stops and before
teardown, each id is fetched with its request's ``read_back`` path (``{id}`` replaced); a
2xx answer counts as found. Reads run on a small thread pool with a timeout each.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import requests

from harness import __version__

READ_TIMEOUT_S = 5.0
WORKERS = 8
MAX_IDS = 20_000
"""Upper bound on ids read back (a long run acknowledges more; the first ones are checked)."""


def acked_ids(path: Path) -> list[tuple[str, str]]:
    """``(request name, id)`` pairs from an ``acked.tsv`` (empty if missing)."""
    if not path.exists():
        return []
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        name, _, ident = line.partition("\t")
        if ident:
            pairs.append((name, ident))
    return pairs


def read_back(acked: list[tuple[str, str]], host: str, paths: dict[str, str],
              headers: dict[str, dict[str, str]] | None = None) -> dict[str, object]:
    """Fetch every acknowledged id; return ``{acked, found, missing, missing_ids}``.

    Args:
        acked: ``(request name, id)`` pairs.
        host: base URL of the target (as the load used it).
        paths: request name -> read-back path template with ``{id}``.
        headers: request name -> headers to send (e.g. authorisation).
    """
    session = requests.Session()
    session.headers["User-Agent"] = f"harness/{__version__} read-back"

    def found(pair: tuple[str, str]) -> bool:
        name, ident = pair
        url = host.rstrip("/") + paths[name].replace("{id}", quote(ident, safe=""))
        try:
            resp = session.get(url, timeout=READ_TIMEOUT_S, headers=(headers or {}).get(name))
        except requests.RequestException:
            return False
        return 200 <= resp.status_code < 300

    todo = [p for p in acked if p[0] in paths][:MAX_IDS]
    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(found, todo))
    missing = [ident for (_, ident), ok in zip(todo, results) if not ok]
    return {"acked": len(todo), "found": len(todo) - len(missing), "missing": len(missing),
            "missing_ids": missing[:50]}
