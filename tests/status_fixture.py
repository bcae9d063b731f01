"""A platform for the release dashboard tests: a hold, a pending promotion, a promotion in the
history, open PRs on the GitHub stand-in (one without its marker), Argo CD answering for dev
(stand-in) and unreachable for prod, and hostile text wherever a person can type some."""
from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .argocd_fake import FakeArgoCD
from .conftest import MINI, copy_inputs
from .github_fake import FakeGitHub

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
UNREACHABLE = "http://127.0.0.1:9"   # discard port: nothing listens, the connection is refused


@dataclass
class StatusWorld:
    root: Path
    github: FakeGitHub
    argocd: FakeArgoCD
    environ: dict


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


def make_world(tmp: Path) -> StatusWorld:
    root = copy_inputs(MINI, tmp / "platform")
    _git(root, "init", "--quiet", "-b", "main")
    _git(root, "config", "user.name", "Release Bot")
    _git(root, "config", "user.email", "bot@example.com")
    _git(root, "add", "-A")
    _git(root, "commit", "--quiet", "-m", "initial")
    # a promotion into prod, as `gitops promote` writes it (trailers)
    _git(root, "commit", "--quiet", "--allow-empty", "-m",
         "promote(prod): shop-api v1.2.0 from dev\n\nPromote 1 service(s) from dev to prod.\n\n"
         "Promoted-From: dev\nPromoted-To: prod\nServices: shop-api\nPromotion-Id: 0123456789")
    # dev moves ahead: stock-service is now pending for prod
    dev = root / "environments" / "dev.yaml"
    dev.write_text(dev.read_text().replace("  stock-service:\n    enabled: true\n    image: {tag: v0.9.1}",
                                           "  stock-service:\n    enabled: true\n    image: {tag: v0.9.2}"))
    assert "v0.9.2" in dev.read_text(), "fixture drifted: stock-service block not found in dev.yaml"
    (root / "holds").mkdir()
    (root / "holds" / "prod.yaml").write_text(
        f"environment: prod\nreason: 'incident INC-42 {HOSTILE}'\nheldBy: Ops <ops@example.com>\nsince: '2026-11-30T12:00:00Z'\n")
    (root / "holds" / "qa.yaml").write_text("environment: qa\nreason: nobody knows\n")
    _git(root, "add", "-A")
    _git(root, "commit", "--quiet", "-m", "bump stock-service in dev; hold prod")

    github = FakeGitHub().start()
    marker = {"action": "promote", "from": "dev", "to": "prod", "id": "abc", "services": ["stock-service"]}
    github.pulls[7] = {"number": 7, "state": "open", "title": f"Promote dev → prod: stock-service v0.9.2 {HOSTILE}",
                       "body": f"## Promote\n\n<!-- gitops-promotion {json.dumps(marker)} -->",
                       "html_url": "https://github.com/meetinity/gitops/pull/7",
                       "head": {"ref": "promote/dev-to-prod/abc"}, "base": {"ref": "main"}, "labels": []}
    github.pulls[8] = {"number": 8, "state": "open", "title": "hand-made promotion", "body": "no marker here",
                       "html_url": "javascript:alert(1)", "head": {"ref": "promote/dev-to-prod/handmade"},
                       "base": {"ref": "main"}, "labels": []}
    github.pulls[9] = {"number": 9, "state": "open", "title": "unrelated feature", "body": "",
                       "html_url": "https://github.com/meetinity/gitops/pull/9", "head": {"ref": "feature/x"},
                       "base": {"ref": "main"}, "labels": []}

    argocd = FakeArgoCD().start()
    argocd.add("shop-api", "meetinity-dev", sync="Synced", health="Healthy")
    argocd.add("stock-service", "meetinity-dev", sync="OutOfSync", health="Degraded")
    # stock-report is enabled in dev but unknown to this Argo CD: a 404 on its cell
    environ = {"GITHUB_TOKEN": github.token, "GITHUB_API_URL": github.url, "GITHUB_REPOSITORY": "meetinity/gitops",
               "ARGOCD_SERVER_DEV": argocd.url, "ARGOCD_AUTH_TOKEN_DEV": argocd.token,
               "ARGOCD_SERVER_PROD": UNREACHABLE, "ARGOCD_AUTH_TOKEN_PROD": "prod-token-never-shown",
               "GITOPS_ARGOCD_BACKOFF": "0", "GITOPS_ARGOCD_RETRIES": "2", "GITOPS_GITHUB_BACKOFF": "0"}
    return StatusWorld(root, github, argocd, environ)
