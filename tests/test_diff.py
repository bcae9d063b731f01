"""Semantic per-resource diff: keys, categories, cross-environment matching, output formats, git refs."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import yaml

from gitops.ops.diff import categorize, diff_trees
from gitops.pipeline.tree import read_tree

from .conftest import run_cli

GOLDEN = Path(__file__).resolve().parent / "golden" / "mini"


def _dump(*objs: dict) -> bytes:
    return b"---\n".join(yaml.safe_dump(o, sort_keys=False).encode() for o in objs)


def _deployment(image="app:v1", replicas=2, cpu="100m", env=None, port=8080, ns="shop-dev", version="v1"):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "api", "namespace": ns, "labels": {"app.kubernetes.io/version": version,
                                                                   "meetinity.io/environment": ns[5:]}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                {"name": "api", "image": image, "resources": {"requests": {"cpu": cpu}},
                 "env": env or [{"name": "LOG_LEVEL", "value": "info"}],
                 "ports": [{"name": "http", "containerPort": port}]},
                {"name": "sidecar", "image": "proxy:1"}]}}}}


def _role(verbs):
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "reader", "namespace": "shop-dev"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": verbs}]}


def test_changed_fields_are_classified_per_resource():
    left = {"api/deployment-api.yaml": _dump(_deployment()), "api/role-reader.yaml": _dump(_role(["get"]))}
    right = {"api/deployment-api.yaml": _dump(_deployment(image="app:v2", replicas=3, cpu="200m", port=9090,
                                                          env=[{"name": "LOG_LEVEL", "value": "debug"}], version="v2")),
             "api/role-reader.yaml": _dump(_role(["get", "list"]))}
    diff = diff_trees(left, right)
    by_ref = {r.ref: r for r in diff.resources}
    dep = by_ref["Deployment shop-dev/api"]
    assert dep.status == "changed"
    assert dep.categories == ["image", "replicas", "resources", "env", "ports", "labels"]
    image = [c for c in dep.changes if c.category == "image"]
    # Lists of named items are matched by name: the sidecar did not change and is not reported.
    assert [(c.path, c.old, c.new) for c in image] == [("spec.template.spec.containers[api].image", "app:v1", "app:v2")]
    assert by_ref["Role shop-dev/reader"].categories == ["rbac"]
    assert diff.summary == {"changed": 2, "added": 0, "removed": 0, "unchanged": 0}


def test_resources_are_keyed_by_kind_namespace_name_not_by_file():
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": "shop-dev"},
           "spec": {"ports": [{"name": "http", "port": 80}]}}
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "shop-dev"}, "data": {"A": "1"}}
    left = {"a/service.yaml": _dump(svc), "a/cm.yaml": _dump(cm)}
    # Moved into another file together with a new object; the ConfigMap is gone.
    new_cm = dict(cm, metadata={"name": "other", "namespace": "shop-dev"})
    right = {"b/all.yaml": _dump(svc, new_cm)}
    diff = diff_trees(left, right)
    assert [(r.status, r.ref) for r in diff.resources] == [("added", "ConfigMap shop-dev/other"),
                                                           ("removed", "ConfigMap shop-dev/settings")]
    assert diff.unchanged == 1


def test_category_rules():
    assert categorize("Service", ["spec", "ports", "[http]", "port"]) == "ports"
    assert categorize("HorizontalPodAutoscaler", ["spec", "maxReplicas"]) == "replicas"
    assert categorize("ConfigMap", ["data", "LOG_LEVEL"]) == "env"
    assert categorize("ClusterRoleBinding", ["subjects", "[0]", "name"]) == "rbac"
    assert categorize("Ingress", ["spec", "rules", "[0]", "host"]) == "hosts"
    assert categorize("Deployment", ["spec", "selector", "matchLabels", "x"]) == "other"
    assert categorize("Deployment", ["spec", "template", "metadata", "annotations", "checksum/settings"]) == "annotations"


def test_two_environments_match_by_kind_and_name_ignoring_namespace_and_env_labels():
    dev, prod = read_tree(GOLDEN / "dev"), read_tree(GOLDEN / "prod")
    diff = diff_trees(dev, prod, left_label="dist/dev", right_label="dist/prod", cross_env=True)
    refs = {r.ref: r for r in diff.resources}
    paths = [c.path for r in diff.resources for c in r.changes]
    assert not any("meetinity.io/environment" in p or "app.kubernetes.io/instance" in p for p in paths)
    assert not any(p == "metadata.namespace" for p in paths)
    # prod pins images by digest: the Deployment is matched across namespaces and shows an image change.
    assert "image" in refs["Deployment shop-api"].categories
    # stock-report is disabled in prod; the Namespace objects are named after the environment.
    assert refs["CronJob stock-report"].status == "removed"
    assert refs["Namespace shop-dev"].status == "removed" and refs["Namespace shop-prod"].status == "added"
    # Same environment against itself: nothing.
    assert diff_trees(dev, dev, cross_env=True).empty


def test_output_formats_text_markdown_json():
    left = {"deployment.yaml": _dump(_deployment())}
    right = {"deployment.yaml": _dump(_deployment(image="app:v2", version="v2"))}
    diff = diff_trees(left, right, left_label="dist/dev@main", right_label="dist/dev")
    text = diff.to_text()
    assert "~ Deployment shop-dev/api  [image, labels]" in text
    assert "spec.template.spec.containers[api].image: app:v1 -> app:v2" in text
    md = diff.to_markdown()
    assert "| ✏️ changed | `Deployment shop-dev/api` | image, labels |" in md
    assert "`app:v1` → `app:v2`" in md
    data = json.loads(diff.to_json())
    assert data["summary"]["changed"] == 1
    change = next(c for c in data["resources"][0]["changes"] if c["category"] == "image")
    assert change == {"path": "spec.template.spec.containers[api].image", "category": "image", "op": "changed",
                      "old": "app:v1", "new": "app:v2"}


def test_markdown_folds_label_only_resources():
    left = {f"cm-{i}.yaml": _dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": f"c{i}", "namespace": "ns", "labels": {"app.kubernetes.io/version": "v1"}}}) for i in range(5)}
    right = {k: v.replace(b"version: v1", b"version: v2") for k, v in left.items()}
    left["deployment.yaml"], right["deployment.yaml"] = _dump(_deployment()), _dump(_deployment(image="app:v2"))
    md = diff_trees(left, right).to_markdown()
    assert "| ✏️ changed | `Deployment shop-dev/api` | image |" in md
    assert "5 more resource(s) with only label/annotation changes" in md
    assert '`labels["app.kubernetes.io/version"]`: `v1` → `v2` on 5 resource(s)' in md


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_cli_diff_against_a_git_ref_and_between_environments(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(GOLDEN, root / "dist")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", "empty")
    _git(root, "add", "dist")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "dist")
    deployment = root / "dist" / "prod" / "shop-api" / "deployment-shop-api.yaml"
    deployment.write_text(deployment.read_text().replace("replicas: ", "replicas: 1") if "replicas: " in deployment.read_text()
                          else deployment.read_text().replace("revisionHistoryLimit: 5", "revisionHistoryLimit: 5\n  replicas: 7"))
    (root / "dist" / "prod" / "stock-service" / "service-stock-service.yaml").unlink()

    proc = run_cli(root, "diff", "--base", "HEAD", "--env", "prod", "--format", "json", "--exit-code")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    [prod] = data["diffs"]
    statuses = {(r["kind"], r["name"]): (r["status"], r["categories"]) for r in prod["resources"]}
    assert statuses[("Deployment", "shop-api")] == ("changed", ["replicas"])
    assert statuses[("Service", "stock-service")] == ("removed", [])
    # Against the parent commit, dist/ did not exist at all: everything is added.
    proc = run_cli(root, "diff", "--base", "HEAD~1", "--head", "HEAD", "--env", "dev", "--format", "text")
    assert proc.returncode == 0 and "0 changed, " in proc.stdout and "+ Deployment shop-dev/shop-api" in proc.stdout
    proc = run_cli(root, "diff", "dev", "prod", "--format", "markdown")
    assert proc.returncode == 0 and "`dist/dev` → `dist/prod`" in proc.stdout
    assert run_cli(root, "diff", "dev").returncode == 2
    proc = run_cli(root, "diff", "--base", "no-such-ref", "--env", "dev")
    assert proc.returncode == 2 and "unknown 'no-such-ref'" in proc.stderr


def test_dashboard_configmap_diff_shows_the_json_paths_that_differ():
    """A dashboard is one long JSON string: the diff names the JSON fields that changed, not two equal prefixes."""
    text = (GOLDEN / "dev" / "shop-api" / "configmap-shop-api-dashboard.yaml").read_bytes()
    cm = yaml.safe_load(text)
    (key, raw), = cm["data"].items()
    dashboard = json.loads(raw)
    changed = json.loads(raw)
    first = next(p for p in changed["panels"] if p.get("targets"))
    old_expr = first["targets"][0]["expr"]
    first["targets"][0]["expr"] = old_expr.replace("[5m]", "[10m]")
    changed["panels"].append({"type": "text", "title": "Runbook", "gridPos": {"h": 4, "w": 24, "x": 0, "y": 99}})
    new_cm = {**cm, "data": {key: json.dumps(changed, indent=2, sort_keys=True)}}
    diff = diff_trees({"cm.yaml": text}, {"cm.yaml": yaml.safe_dump(new_cm, sort_keys=False).encode()})
    (resource,) = diff.resources
    index = dashboard["panels"].index(next(p for p in dashboard["panels"] if p.get("targets")))
    paths = {c.path: c for c in resource.changes}
    expr = paths[f'data["{key}"].panels[{index}].targets[0].expr']
    assert (expr.old, expr.new) == (old_expr, old_expr.replace("[5m]", "[10m]"))
    added = paths[f'data["{key}"].panels[{len(dashboard["panels"])}]']
    assert added.op == "added" and added.new["title"] == "Runbook"
    assert len(resource.changes) == 2
    text_out = diff.to_text()
    assert "[10m]" in text_out and "Runbook" in text_out
