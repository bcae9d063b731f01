"""Dockerfiles: lint them against the platform's rules (plus hadolint) and generate hardened ones.

- ``parse``: the official BuildKit parser (PyPI ``dockerfile``) -> stages and instructions;
- ``rules``: the DF001... rules (findings are ``gitops.findings.Finding``, like every command's);
- ``lint``: runs the rules and hadolint, merges both into one report;
- ``generate``: a multistage Dockerfile and .dockerignore from an inventory component.
"""
