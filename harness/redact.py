"""Redaction of secrets (values of ``${env:NAME}`` references) from everything a run writes."""

from __future__ import annotations

MASK = "***"


class Redactor:
    """Replaces every secret value in a text with ``***``; longest secrets first, so a secret
    that contains another is masked whole. Secrets shorter than 4 characters are still masked
    (a short token is still a token)."""

    def __init__(self, secrets: set[str] | None = None):
        self.secrets = sorted((s for s in (secrets or set()) if s), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def __bool__(self) -> bool:
        return bool(self.secrets)
