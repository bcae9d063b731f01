"""End to end, through the CLI, against a real git remote and the local GitHub fake:

bump dev -> promote dev -> staging -> idempotent re-run -> supersede -> merge -> hold/release
-> promote staging -> prod (refused while staging's Argo CD shows it Degraded, then opened with the
evidence read from the Argo CD and Prometheus stand-ins) -> nothing to promote -> rollback.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from .argocd_fake import FakeArgoCD
from .github_fake import FakeGitHub
from .prometheus_fake import FakePrometheus
from .test_promote_support import DIGEST_A, DIGEST_B, copy_setup, gitops, template, trailers

ONE = "sha256:" + "1" * 64


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    setup = copy_setup(template(), tmp_path_factory.mktemp("e2e") / "s")
    fake = FakeGitHub(git_dir=setup.bare).start()
    argocd, prometheus = FakeArgoCD().start(), FakePrometheus().start()
    yield setup, fake, argocd, prometheus
    fake.stop(), argocd.stop(), prometheus.stop()


def _image(setup, env: str, ref: str = "HEAD", service: str = "shop-api") -> dict:
    text = setup.git("show", f"{ref}:environments/{env}.yaml")
    return yaml.safe_load(text)["components"][service]["image"]


def test_promotion_flow(world):
    setup, fake, argocd, prometheus = world
    staging_apis = {"ARGOCD_SERVER_STAGING": argocd.url, "ARGOCD_AUTH_TOKEN_STAGING": argocd.token,
                    "PROMETHEUS_URL_STAGING": prometheus.url, "GITOPS_ARGOCD_BACKOFF": "0"}

    # 1. The image build job bumps dev; CI commits and pushes.
    status = json.loads(gitops(setup, fake, "status", "--format", "json").stdout)
    assert not next(r for r in status["components"] if r["component"] == "shop-api")["differs"]
    out = gitops(setup, fake, "bump", "--env", "dev", "--service", "shop-api", "--tag", "v1.3.0", "--digest", DIGEST_A)
    assert "v1.2.0 -> v1.3.0" in out.stdout
    assert "v1.3.0@" + DIGEST_A in (setup.root / "dist/dev/shop-api/deployment-shop-api.yaml").read_text()
    setup.commit_all("bump shop-api v1.3.0 in dev")
    setup.git("push", "--quiet", "origin", "main")

    # 2. dev -> staging opens PR #1 from a content-addressed branch; the checkout is untouched.
    #    (This call runs `python -m gitops` as a real process; the others use click's runner in-process.)
    before = setup.snapshot()
    out = gitops(setup, fake, "promote", "--to", "staging", spawn=True)
    assert "opened pull request #1" in out.stdout
    after = setup.snapshot()
    for key in ("files", "status", "head", "branch", "worktrees"):
        assert after[key] == before[key], key
    [branch] = [b for b in setup.remote_branches() if b.startswith("promote/dev-to-staging/")]
    pr1 = fake.pulls[1]
    assert pr1["head"]["ref"] == branch and pr1["base"]["ref"] == "main"
    t = trailers(setup, f"origin/{branch}")
    assert t["Promoted-From"] == "dev" and t["Promoted-To"] == "staging"
    assert t["Services"] == "shop-api" and t["Source-Commit"] == setup.git("rev-parse", "HEAD")
    assert t["Promotion-Id"] == branch.rsplit("/", 1)[1]
    changed = setup.git("diff", "--name-only", "main", f"origin/{branch}").splitlines()
    assert "environments/staging.yaml" in changed and all(p == "environments/staging.yaml" or p.startswith("dist/staging/") for p in changed)
    env_diff = setup.git("diff", "-U0", "main", f"origin/{branch}", "--", "environments/staging.yaml")
    assert [l for l in env_diff.splitlines() if l[:1] in "+-" and l[:3] not in ("+++", "---")] == [
        f'-    image: {{tag: v1.2.0, digest: "{ONE}"}}', f'+    image: {{tag: v1.3.0, digest: "{DIGEST_A}"}}']
    body = pr1["body"]
    assert "## 🚀 Promote `dev` → `staging`" in body
    assert "| `shop-api` | `v1.2.0` → **`v1.3.0`** | `sha256:111111111111` → **`sha256:aaaaaaaaaaaa`** |" in body
    assert "| ✏️ changed | `Deployment shop-staging/shop-api` | image, labels |" in body
    assert "`ghcr.io/meetinity/shop-api:v1.2.0@sha256:1111" in body and "/compare/main..." + branch in body
    assert "### Reviewer checklist" in body and "- [ ] " in body
    # gitops validate ran on the re-rendered staging with no option (the repository's CRD schemas).
    assert "**validation** (passed)" in body
    assert fake.labels[1] == ["promotion", "env:staging"]
    assert fake.requested[1]["team_reviewers"] == ["platform"]

    # 3. Re-running the same promotion updates PR #1: no second PR, no new commit.
    tip = setup.remote_git("rev-parse", branch)
    out = gitops(setup, fake, "promote", "--to", "staging")
    assert "updated pull request #1" in out.stdout
    assert len(fake.pulls) == 1 and fake.calls("POST", r"/pulls$") == 1
    assert setup.remote_git("rev-parse", branch) == tip

    # The release dashboard places the open PR on the row it moves (through the body's marker).
    status = json.loads(gitops(setup, fake, "status", "--format", "json").stdout)
    pulls = {r["component"]: [(p["number"], p["to"]) for p in r["pulls"]] for r in status["components"]}
    assert pulls["shop-api"] == [(1, "staging")] and not any(v for k, v in pulls.items() if k != "shop-api")
    assert status["sources"]["github"]["state"] == "ok" and status["warnings"] == []

    # 4. A newer build promoted to staging supersedes PR #1 (dev edited by hand this time: promotion
    #    reads environments/dev.yaml, not dist/dev, so no render is needed here).
    path = setup.root / "environments" / "dev.yaml"
    path.write_text(path.read_text().replace(f"tag: v1.3.0, digest: \"{DIGEST_A}\"", f"tag: v1.3.1, digest: \"{DIGEST_B}\""))
    setup.commit_all("dev: shop-api v1.3.1")
    setup.git("push", "--quiet", "origin", "main")
    out = gitops(setup, fake, "promote", "--from", "dev", "--to", "staging", "--service", "shop-api")
    assert "opened pull request #2" in out.stdout and "closed superseded #1" in out.stdout
    assert fake.pulls[1]["state"] == "closed" and fake.pulls[2]["state"] == "open"
    assert "Superseded by #2" in fake.comments[1][0]["body"] and fake.pulls[2]["html_url"] in fake.comments[1][0]["body"]
    branch2 = fake.pulls[2]["head"]["ref"]
    assert branch2 != branch and branch2.startswith("promote/dev-to-staging/")
    status = gitops(setup, fake, "status").stdout
    assert "v1.3.1@sha256:bbbbbbbbbbbb" in status and "v1.2.0@sha256:111111111111 *" in status

    # 5. Skipping a stage is refused without --skip-gate.
    out = gitops(setup, fake, "promote", "--from", "dev", "--to", "prod", expect=1)
    assert "`prod` promotes from `staging`, not `dev`" in out.stderr

    # 6. Merge PR #2; a hold on prod stops promotions until released.
    setup.merge(branch2)
    fake.merge(2)
    gitops(setup, fake, "hold", "--env", "prod", "--reason", "INC-7: checkout errors")
    setup.git("push", "--quiet", "origin", "main")
    out = gitops(setup, fake, "promote", "--to", "prod", expect=1)
    assert "prod is on hold" in out.stderr and "INC-7: checkout errors" in out.stderr
    assert not [b for b in setup.remote_branches() if "-to-prod/" in b]
    gitops(setup, fake, "release", "--env", "prod")
    setup.git("push", "--quiet", "origin", "main")
    assert not (setup.root / "holds" / "prod.yaml").exists()
    assert "Hold: prod" in setup.git("log", "--format=%B", "-2", "--", "holds/prod.yaml")

    # 7. staging -> prod asks staging's Argo CD (prod declares soak: 24h): Degraded there is refused...
    project = yaml.safe_load((setup.root / "argocd/staging/application-shop-api.yaml").read_text())["spec"]["project"]
    main = setup.git("rev-parse", "HEAD")
    two_days_ago = (datetime.now(timezone.utc) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    argocd.add("shop-api", project, revision=main, deployed_at=two_days_ago, health="Degraded", message="1/2 pods ready")
    out = gitops(setup, fake, "promote", "--to", "prod", "--reason", "release 2026.11", env=staging_apis, expect=1)
    assert "soak" in out.stderr and "health is Degraded (1/2 pods ready), expected Healthy" in out.stderr
    assert not [b for b in setup.remote_branches() if "-to-prod/" in b]
    #    ... and once it is Healthy for two days with no critical alert, the versions on main's staging file go.
    argocd.add("shop-api", project, revision=main, deployed_at=two_days_ago)
    prometheus.add("ALERTS", alertname="HighP95Latency", alertstate="firing", severity="warning",
                   component="shop-api", environment="staging")  # a warning only: not a reason to refuse
    out = gitops(setup, fake, "promote", "--to", "prod", "--reason", "release 2026.11", env=staging_apis)
    assert "opened pull request #3" in out.stdout
    pr3 = fake.pulls[3]
    assert pr3["head"]["ref"].startswith("promote/staging-to-prod/")
    assert "| `shop-api` | `v1.2.0` → **`v1.3.1`** | `sha256:111111111111` → **`sha256:bbbbbbbbbbbb`** |" in pr3["body"]
    assert "**default-branch** (passed)" in pr3["body"] and "| reason | release 2026.11 |" in pr3["body"]
    assert "**soak** (passed)" in pr3["body"] and "**alerts** (passed)" in pr3["body"]
    assert "### Evidence from `staging`" in pr3["body"] and "soak required by `prod`: **24h**" in pr3["body"]
    [row] = [line for line in pr3["body"].splitlines() if line.startswith("| `shop-api` | Synced")]
    assert row == (f"| `shop-api` | Synced | Healthy | [`{main[:12]}`]({fake.url}/meetinity/gitops/commit/{main}) "
                   f"| {two_days_ago} | 0 | none | [Argo CD]({argocd.url}/applications/argocd/shop-api) · "
                   "[Grafana](https://grafana.staging.example.com/d/meetinity-staging-shop-api) |")
    assert fake.labels[3] == ["promotion", "env:prod"]
    t = trailers(setup, f"origin/{pr3['head']['ref']}")
    assert t["Promoted-From"] == "staging" and t["Promoted-To"] == "prod" and t["Reason"] == "release 2026.11"
    prod_commit = setup.git("rev-parse", f"origin/{pr3['head']['ref']}")
    setup.merge(pr3["head"]["ref"])
    fake.merge(3)
    assert _image(setup, "prod") == {"tag": "v1.3.1", "digest": DIGEST_B}

    # 8. Nothing left to promote: exit 0, no branch, no PR.
    remote_before = setup.remote_branches()
    out = gitops(setup, fake, "promote", "--to", "prod")
    assert "nothing to promote" in out.stdout
    assert setup.remote_branches() == remote_before and len(fake.pulls) == 3

    # 9. Rollback prod: a new commit restoring the versions from before the last promotion.
    out = gitops(setup, fake, "rollback", "--env", "prod", "--reason", "errors up")
    assert "opened pull request #4" in out.stdout
    pr4 = fake.pulls[4]
    rb = pr4["head"]["ref"]
    assert rb.startswith("rollback/prod/")
    t = trailers(setup, f"origin/{rb}")
    assert t["Rollback-Of"] == prod_commit and t["Restored-From"] == setup.git("rev-parse", f"{prod_commit}^")
    assert _image(setup, "prod", f"origin/{rb}") == {"tag": "v1.2.0", "digest": ONE}
    assert setup.git("rev-parse", f"origin/{rb}^") == setup.git("rev-parse", "main")  # a new commit on top, no rewrite
    assert "| `shop-api` | `v1.3.1` → **`v1.2.0`** |" in pr4["body"] and "undoes promotion" in pr4["body"]
    assert fake.labels[4] == ["promotion", "rollback", "env:prod"]
    assert fake.pulls[3]["state"] == "closed"
    assert setup.git("status", "--porcelain") == ""
