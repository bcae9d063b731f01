"""Promotion between environment folders: pull requests with diff, gates, holds and rollback.

Modules: envfile (schema-driven promotable fields, minimal-diff edits), git (real git, temporary
worktrees), github (REST client, retries, duplicate-safe PR creation), gates, holds, body (PR and
commit text), promote (orchestration of promote and rollback), versions (status, bump), publish.
See docs/promotion.md.
"""
