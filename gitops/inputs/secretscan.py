"""Does a plain (non-secret) setting look like a credential?

Plain settings are rendered into a ConfigMap (charts/config.py) and shown in every promotion
diff: anything secret in them is readable by everyone with repository or namespace access.
Used by the loader (input error) and by ``gitops validate`` (rule SEC002 on ConfigMap data).

The rules are precise on purpose, so real settings pass:
- **names**: the *last* word of the variable names the secret (``DB_PASSWORD``, ``API_KEY``,
  ``JWT_SECRET``, ``GITHUB_TOKEN``); ``TOKEN_TTL``, ``SECRET_NAME``, ``PASSWORD_MIN_LENGTH`` or
  ``AWS_ACCESS_KEY_ID`` describe a secret without being one;
- **values**: only formats that cannot be anything but a credential: AWS access key IDs
  (``AKIA``/``ASIA`` + 16, docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html),
  Stripe secret/restricted keys (``sk_``/``rk_`` + ``live``/``test``, docs.stripe.com/keys),
  GitHub tokens (``ghp_``, ``gho_``, ``ghu_``, ``ghs_``, ``ghr_``, ``github_pat_``,
  github.blog/2021-04-05-behind-githubs-new-authentication-token-formats) and PEM private keys.

A deliberate exception is waived with a reason: in the inventory on the variable
(``waivers: {SEC002: "<reason>"}``), in ``dist/`` with ``waiver.meetinity.io/SEC002``.
"""
from __future__ import annotations

import re

RULE_ID = "SEC002"

SECRET_WORDS = ("PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "CREDENTIALS")

VALUE_PATTERNS = (
    ("an AWS access key ID", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")),
    ("a Stripe secret key", re.compile(r"(?<![A-Za-z0-9])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}")),
    ("a GitHub token", re.compile(r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})")),
    ("a PEM private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
)


def secret_name(name: str) -> bool:
    """True when the variable's last word names a secret (``STRIPE_API_KEY``, ``DB_PASSWORD``)."""
    words = [w for w in re.split(r"[_\W]+", name.upper()) if w]
    return bool(words) and words[-1] in SECRET_WORDS


def secret_value(value: str) -> str | None:
    """What the value looks like (``"an AWS access key ID"``), or None."""
    for what, pattern in VALUE_PATTERNS:
        if pattern.search(value):
            return what
    return None


def looks_secret(name: str, value: str | None) -> str | None:
    """Why a plain setting NAME=VALUE looks like a credential, or None. Empty values are never secret."""
    if not value:
        return None
    what = secret_value(value)
    if what:
        return f"its value looks like {what}"
    if secret_name(name):
        return f"its name {name!r} says it holds a secret"
    return None
