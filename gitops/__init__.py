"""Meetinity GitOps generator: typed inventory -> cdk8s -> dist/<env> -> Argo CD."""

import os as _os

# jsii prints an end-of-life banner for the machine's Node 20 on every start; it is noise here.
_os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
