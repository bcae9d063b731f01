"""fastjsonschema validators whose generated code is kept between runs.

``fastjsonschema.compile`` generates Python source for a schema and compiles it, which costs about
0.08 s for the two input schemas here, in every `gitops` process and on the way to the first chart.
``compile_to_code`` is the library's documented way to keep that code instead ("Generates validation
code ... with open('your_file.py', 'w') as f: f.write(code)"); this module keeps it compiled, as a
marshalled code object under the checkout's .cache/ (never committed). The key covers the schema,
the options, the fastjsonschema version and the Python version (marshal's format is per version),
so a changed schema or upgrade compiles afresh; an unreadable entry is compiled again.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import marshal
import os
import sys
import tempfile
import types
from pathlib import Path
from typing import Callable

CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "schema-code"


def compiled_validator(schema: dict, *, use_default: bool) -> Callable:
    """``fastjsonschema.compile(schema, use_default=...)``, from .cache/ when it was compiled before."""
    import fastjsonschema

    key = hashlib.sha256(json.dumps([schema, use_default, fastjsonschema.VERSION, sys.version],
                                    sort_keys=True).encode()).hexdigest()
    path = CACHE_DIR / f"{key}.marshal"
    try:
        code = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        code = None
    if not isinstance(code, types.CodeType):
        code = compile(fastjsonschema.compile_to_code(schema, use_default=use_default), f"<schema {key[:12]}>", "exec")
        with contextlib.suppress(OSError):  # a read-only checkout still validates, only slower
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(marshal.dumps(code))
            os.replace(tmp, path)
    namespace: dict = {}
    exec(code, namespace)  # the code fastjsonschema generated for this very schema (see the key)
    return namespace["validate"]
