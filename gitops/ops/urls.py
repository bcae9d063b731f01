"""URLs as they may be shown or recorded: without credentials.

A remote configured as ``https://x-access-token:TOKEN@github.com/o/r.git`` (what CI checkouts and
many scripts do) must never reach a commit trailer, an error message or a log line. RFC 3986
section 3.2.1 calls ``user:password@`` the *userinfo* and deprecates passwords in it; git itself
strips it only from some of its messages. Every URL this tool prints or records goes through
:func:`redact` (one URL) or :func:`redact_text` (free text such as git's stderr).
"""
from __future__ import annotations

import re

# scheme://userinfo@ — userinfo is everything up to the last "@" before the host's first "/".
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/\s'\"<>]*@)")


def redact(url: str) -> str:
    """``https://user:token@host/path`` -> ``https://host/path``; anything else unchanged.

    scp-like remotes (``git@github.com:o/r.git``) carry a login name, never a secret, and stay as they are.
    """
    return _USERINFO.sub(lambda m: m.group("scheme"), url)


def redact_text(text: str) -> str:
    """Every ``scheme://userinfo@`` in a message, stripped (git's stderr, exception texts)."""
    return _USERINFO.sub(lambda m: m.group("scheme"), text)
