"""Terraform fed by the inventory: generated tfvars, module hygiene, offline terraform, checkov.

No provider is ever downloaded: `terraform validate`/`apply` run only on the provider-free
`sizing` module, and `terraform plan` only on each composition's main.tf + variables.tf calling
the `environment` module's variables.tf + checks.tf (terraform_data is built into Terraform).
Everything else is parsed with python-hcl2.
"""
from __future__ import annotations

import copy
import functools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import hcl2
import pytest
import yaml

from gitops.inputs.load import load_platform
from gitops.pipeline.outputs import ENV_FILES, ENV_TREES
from gitops.generated.tfvars import TFVARS_PATH, render_tfvars, tfvars_data

from .conftest import REPO, run_gitops
from .tools import checkov_bin, checkov_env

TF = REPO / "infra" / "terraform"
MODULES = TF / "modules"
COMPOSITIONS = TF / "environments"
MODULE_NAMES = ("network", "cluster", "logs-kms-key", "ingress", "argocd", "sizing", "environment")
# The shared logic of every environment: compositions call it and hold nothing else of their own.
SHARED = MODULES / "environment"
# Files every composition shares byte for byte; versions.tf differs only in the state key.
SHARED_COMPOSITION_FILES = ("main.tf", "variables.tf", "providers.tf")
COMPOSITION_FILES = (*SHARED_COMPOSITION_FILES, "versions.tf")
EXACT_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")

TERRAFORM = shutil.which("terraform")
needs_terraform = pytest.mark.skipif(TERRAFORM is None, reason="terraform binary not installed")


def _unquote(name: str) -> str:
    return name[1:-1] if len(name) >= 2 and name[0] == name[-1] == '"' else name


@functools.lru_cache(maxsize=None)
def _parsed(path: Path) -> dict:
    with path.open() as fh:
        return hcl2.load(fh)


def _load_hcl(path: Path) -> dict:
    return copy.deepcopy(_parsed(path))


def _blocks(path: Path, kind: str) -> dict[str, dict]:
    """{name: body} of every `kind "name" {...}` block in a .tf file."""
    out = {}
    for block in _load_hcl(path).get(kind, []):
        for name, body in block.items():
            out[_unquote(name)] = body
    return out


def _module_variables(folder: Path) -> dict[str, dict]:
    out = {}
    for path in sorted(folder.glob("*.tf")):
        out.update(_blocks(path, "variable"))
    return out


def _module_outputs(folder: Path) -> dict[str, dict]:
    out = {}
    for path in sorted(folder.glob("*.tf")):
        out.update(_blocks(path, "output"))
    return out


def _tf_env() -> dict:
    return {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}


def _terraform(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([TERRAFORM, *args], cwd=cwd, capture_output=True, text=True, env=_tf_env(), timeout=120)


def _said(proc: subprocess.CompletedProcess) -> str:
    """Terraform's messages with its line wrapping and box drawing removed."""
    return " ".join((proc.stdout + proc.stderr).replace("│", " ").split())


def _real_environments() -> list[str]:
    return sorted(p.stem for p in (REPO / "environments").glob("*.yaml"))


# --- the generated tfvars ---------------------------------------------------------------

def test_tfvars_registered_once_as_an_environment_file():
    assert (TFVARS_PATH, "gitops.generated.tfvars:render_tfvars") in ENV_FILES
    assert sum(1 for template, _ in ENV_FILES if template == TFVARS_PATH) == 1


def test_synth_writes_each_environments_tfvars_equal_to_the_renderer(mini_synth):
    platform = load_platform(mini_synth)
    for env in platform.environments:
        written = (mini_synth / TFVARS_PATH.format(env=env.name)).read_bytes()
        assert written == render_tfvars(platform, env), env.name
        # Canonical JSON: sorted keys, indent 2, one trailing newline.
        assert written == (json.dumps(json.loads(written), sort_keys=True, indent=2) + "\n").encode()


def test_tfvars_carry_capacity_version_names_and_cloud_identities(mini):
    # Give two workloads a cloud identity; stock-report is disabled in prod and must not get one there.
    for name in ("shop-api", "stock-report"):
        path = mini / "inventory" / f"{name}.yaml"
        path.write_text(path.read_text() + "cloudIdentity: true\n")
    run_gitops(mini, "synth", check=True)
    for env_name in ("dev", "prod"):
        data = json.loads((mini / TFVARS_PATH.format(env=env_name)).read_text())
        raw = yaml.safe_load((mini / "environments" / f"{env_name}.yaml").read_text())
        assert data["environment"] == env_name
        assert data["cluster_name"] == raw["cluster"]["name"]
        assert data["kubernetes_version"] == raw["kubernetesVersion"]
        assert data["namespaces"]["workloads"] == raw["namespace"]
        nc = raw["nodeCapacity"]
        assert data["node_capacity"] == {
            "instance_type": nc["instanceType"], "min_size": nc["min"], "max_size": nc["max"],
            "cpu_per_node": nc["cpuPerNode"], "memory_per_node": nc["memoryPerNode"],
        }
        assert data["backing_cidrs"] == sorted({b["cidr"] for b in raw["backing"].values()})
    dev = json.loads((mini / TFVARS_PATH.format(env="dev")).read_text())
    prod = json.loads((mini / TFVARS_PATH.format(env="prod")).read_text())
    assert [i["name"] for i in dev["cloud_identities"]] == ["shop-api", "stock-report"]
    assert [i["name"] for i in prod["cloud_identities"]] == ["shop-api"]
    assert prod["cloud_identities"][0] == {"name": "shop-api", "namespace": "shop-prod", "service_account": "shop-api"}


def test_committed_tfvars_of_the_repository_are_fresh():
    """The same rule synth --check applies, without rendering any manifest."""
    platform = load_platform(REPO)
    for env in platform.environments:
        path = REPO / TFVARS_PATH.format(env=env.name)
        assert path.is_file(), f"{path.relative_to(REPO)} missing: run make synth"
        assert path.read_bytes() == render_tfvars(platform, env), f"{path.relative_to(REPO)} is stale: run make synth"


def test_synth_check_reports_a_stale_tfvars_file(mini):
    run_gitops(mini, "synth", "--env", "dev", check=True)
    path = mini / TFVARS_PATH.format(env="dev")
    path.write_text(path.read_text().replace('"shop-dev"', '"edited-by-hand"'))
    proc = run_gitops(mini, "synth", "--env", "dev", "--check")
    assert proc.returncode == 1
    assert f"changed {TFVARS_PATH.format(env='dev')}" in proc.stdout


def test_terraform_installs_into_the_namespaces_the_manifests_name(mini_synth):
    """Terraform installs ingress-nginx and Argo CD into the namespaces the tfvars name; the generated
    NetworkPolicies admit ingress from that namespace and the Argo CD objects live in the other one."""
    from gitops.inputs.conventions import ARGOCD_NAMESPACE, INGRESS_NAMESPACE
    platform = load_platform(REPO / "tests" / "fixtures" / "mini")
    assert tfvars_data(platform, platform.environments[0])["namespaces"] == {
        **tfvars_data(platform, platform.environments[0])["namespaces"], "ingress": INGRESS_NAMESPACE,
        "argocd": ARGOCD_NAMESPACE}
    policies = "".join(p.read_text() for p in (mini_synth / "dist").rglob("networkpolicy-*.yaml"))
    assert f"kubernetes.io/metadata.name: {INGRESS_NAMESPACE}" in policies
    apps = [yaml.safe_load(p.read_text()) for p in (mini_synth / "argocd").rglob("application-*.yaml")]
    assert apps and {a["metadata"]["namespace"] for a in apps} == {ARGOCD_NAMESPACE}


def test_compositions_find_the_root_application_and_its_project(mini_synth):
    """The compositions read argocd/<env>/application-root.yaml and appproject-<spec.project>.yaml."""
    assert any(template == "argocd/{env}" for template, _ in ENV_TREES)
    main = (SHARED / "main.tf").read_text()
    assert '"${local.argocd_dir}/application-root.yaml"' in main
    assert '"${local.argocd_dir}/appproject-${yamldecode(local.root_application_yaml).spec.project}.yaml"' in main
    for env in load_platform(mini_synth).environments:
        folder = mini_synth / "argocd" / env.name
        root = yaml.safe_load((folder / "application-root.yaml").read_text())
        assert (root["apiVersion"], root["kind"]) == ("argoproj.io/v1alpha1", "Application")
        assert root["spec"]["source"]["path"] == f"argocd/{env.name}"
        project = yaml.safe_load((folder / f"appproject-{root['spec']['project']}.yaml").read_text())
        assert (project["kind"], project["metadata"]["name"]) == ("AppProject", root["spec"]["project"])
        assert project["metadata"]["namespace"] == root["metadata"]["namespace"] == "argocd"


# --- compositions -----------------------------------------------------------------------

def test_every_environment_has_a_composition_and_no_composition_is_orphaned():
    envs = _real_environments()
    assert envs, "no environments/*.yaml in the repository"
    assert sorted(p.name for p in COMPOSITIONS.iterdir() if p.is_dir()) == envs
    for env in envs:
        for name in (*COMPOSITION_FILES, "settings.auto.tfvars"):
            assert (COMPOSITIONS / env / name).is_file(), f"{env}/{name}"
        # Shared logic belongs in modules/environment, not in a new file of one composition.
        assert sorted(p.name for p in (COMPOSITIONS / env).glob("*.tf")) == sorted(COMPOSITION_FILES), env


def test_compositions_share_their_code_and_differ_only_in_state_key():
    envs = _real_environments()
    first = COMPOSITIONS / envs[0]
    for env in envs[1:]:
        for name in SHARED_COMPOSITION_FILES:
            assert (COMPOSITIONS / env / name).read_bytes() == (first / name).read_bytes(), f"{env}/{name}"
        normalized = (COMPOSITIONS / env / "versions.tf").read_text().replace(f"meetinity/{env}/", "meetinity/ENV/")
        assert normalized == (first / "versions.tf").read_text().replace(f"meetinity/{envs[0]}/", "meetinity/ENV/")


def test_compositions_pin_providers_exactly_and_use_a_partial_s3_backend():
    for env in _real_environments():
        terraform = _load_hcl(COMPOSITIONS / env / "versions.tf")["terraform"][0]
        providers = terraform["required_providers"][0]
        names = {k for k in providers if not k.startswith("__")}
        assert names == {"aws", "helm", "kubernetes", "tls"}
        for name in names:
            assert EXACT_VERSION.match(_unquote(providers[name]["version"])), (env, name)
        backend = terraform["backend"][0]
        assert list(k for k in backend if not k.startswith("__")) == ['"s3"']
        s3 = backend['"s3"']
        assert _unquote(s3["key"]) == f"meetinity/{env}/terraform.tfstate"
        # Partial configuration: the bucket and region are given at `terraform init`.
        assert "bucket" not in s3 and "region" not in s3
        assert s3["encrypt"] is True


def test_generated_keys_are_declared_as_composition_variables():
    platform = load_platform(REPO / "tests" / "fixtures" / "mini")
    data = tfvars_data(platform, platform.environments[0])
    typed = _module_variables(SHARED)
    for key, value in data.items():
        if isinstance(value, dict):
            declared = set(re.findall(r"(\w+)\s*=", typed[key]["type"]))
            assert set(value) == declared, (key, declared)
    for env in _real_environments():
        variables = _blocks(COMPOSITIONS / env / "variables.tf", "variable")
        settings = {k for k in _load_hcl(COMPOSITIONS / env / "settings.auto.tfvars") if not k.startswith("__")}
        assert set(data) <= set(variables), set(data) - set(variables)
        assert settings <= set(variables), settings - set(variables)
        # Nothing prompts at plan time: each variable is generated, set in settings, or defaulted.
        for name in variables:
            assert name in data or name in settings or "default" in typed[name], f"{env}: {name} has no value"
        assert not settings & set(data), "settings.auto.tfvars must not override generated values"


def test_compositions_pass_every_variable_unchanged_to_the_shared_module():
    """The root only names the tfvars keys (Terraform reads *.auto.tfvars into root variables);
    the environment module types, documents, defaults and validates each of them."""
    typed = _module_variables(SHARED)
    for env in _real_environments():
        variables = _blocks(COMPOSITIONS / env / "variables.tf", "variable")
        call = _blocks(COMPOSITIONS / env / "main.tf", "module")["environment"]
        arguments = {k: v for k, v in call.items() if k != "source" and not k.startswith("__")}
        assert arguments == {name: f"${{var.{name}}}" for name in variables}, env
        assert set(variables) == set(typed), set(variables) ^ set(typed)
        for name, body in variables.items():
            # Untyped and unvalidated here: one declaration, in the module.
            assert {k for k in body if not k.startswith("__")} <= {"default"}, f"{env}: variable {name}"
            if "default" in typed[name]:
                # Optional in the root too; the null it passes means the module's default.
                assert "default" in body and body["default"] is None, f"{env}: variable {name}"
                assert typed[name].get("nullable") is False, f"environment: variable {name} must be nullable = false"
            else:
                assert "default" not in body, f"{env}: variable {name} is required by the module"


def test_modules_are_called_from_every_composition():
    for env in _real_environments():
        calls = _blocks(COMPOSITIONS / env / "main.tf", "module")
        assert {name: _unquote(body["source"]) for name, body in calls.items()} == {
            "environment": "../../modules/environment",
        }
    calls = _blocks(SHARED / "main.tf", "module")
    assert {name: _unquote(body["source"]) for name, body in calls.items()} == {
        "network": "../network", "cluster": "../cluster", "ingress": "../ingress", "argocd": "../argocd",
    }


def test_composition_providers_read_what_the_shared_module_outputs():
    """Provider blocks stay in the root but hold no logic: each value they read is an output (or an
    attribute of an output) of modules/environment. Offline, nothing else would catch a typo here."""
    outputs = {name: body["value"] for name, body in _module_outputs(SHARED).items()}
    for env in _real_environments():
        path = COMPOSITIONS / env / "providers.tf"
        aliases = {}
        for block in _load_hcl(path).get("locals", []):
            for name, value in block.items():
                ref = re.fullmatch(r"\$\{module\.environment\.(\w+)\}", str(value))
                if ref:
                    aliases[name] = ref.group(1)
        text = path.read_text()
        paths = re.findall(r"module\.environment\.([\w.]+)", text)
        paths += [f"{aliases[m.group(1)]}{m.group(2)}" for m in re.finditer(r"local\.(\w+)((?:\.\w+)*)", text)]
        assert paths, env
        for dotted in paths:
            name, *attributes = dotted.split(".")
            assert name in outputs, f"{env}/providers.tf reads module.environment.{name}, which is no output"
            value = outputs[name]
            for attribute in attributes:
                assert isinstance(value, dict) and attribute in value, f"{env}/providers.tf: {dotted}"
                value = value[attribute]


def test_compositions_keep_the_state_of_objects_created_before_the_shared_module():
    """moved blocks: a root applied before modules/environment existed plans no replacement."""
    for env in _real_environments():
        moves = {(m["from"], m["to"]) for m in _load_hcl(COMPOSITIONS / env / "main.tf").get("moved", [])}
        assert moves == {
            *((f"${{module.{m}}}", f"${{module.environment.module.{m}}}")
              for m in ("network", "cluster", "ingress", "argocd")),
            ("${terraform_data.consistency}", "${module.environment.terraform_data.consistency}"),
        }, env


# --- module hygiene ---------------------------------------------------------------------

def test_every_tf_and_tfvars_file_parses():
    files = sorted(p for p in TF.rglob("*") if p.suffix in (".tf", ".tfvars") and ".terraform" not in p.parts)
    assert len(files) >= 30
    for path in files:
        _load_hcl(path)  # raises on a syntax error


def test_variables_are_typed_documented_and_validated():
    # The compositions' variables are pass-throughs to `environment`, checked above.
    for folder in [MODULES / m for m in MODULE_NAMES]:
        variables = _module_variables(folder)
        assert variables, folder
        for name, body in variables.items():
            where = f"{folder.relative_to(TF)}: variable {name}"
            assert body.get("type"), f"{where} has no type"
            assert _unquote(body.get("description", "")).strip(), f"{where} has no description"
            if body["type"] != "bool":
                assert body.get("validation"), f"{where} has no validation block"


def test_a_forwarded_variable_has_the_same_type_in_the_module_it_is_passed_to():
    """Terraform cannot share a variable declaration between modules (README "Why variable blocks
    repeat"), so a forwarded input is declared twice; the two types must not drift apart."""
    forwarded = 0
    for folder in [MODULES / m for m in MODULE_NAMES]:
        ours = _module_variables(folder)
        for path in sorted(folder.glob("*.tf")):
            for call, body in _blocks(path, "module").items():
                target = (folder / _unquote(body["source"])).resolve()
                theirs = _module_variables(target)
                for argument, value in body.items():
                    name = re.fullmatch(r"\$\{var\.([a-z0-9_]+)\}", str(value))
                    if name is None or argument not in theirs:
                        continue
                    forwarded += 1
                    assert ours[name[1]]["type"] == theirs[argument]["type"], (
                        f"{folder.name}: var.{name[1]} -> module.{call}.{argument}")
    assert forwarded >= 20  # environment -> network/cluster/ingress/argocd, cluster -> sizing, ... -> logs-kms-key


def test_every_output_is_described():
    for folder in [MODULES / m for m in MODULE_NAMES] + [COMPOSITIONS / e for e in _real_environments()]:
        outputs = _module_outputs(folder)
        assert outputs, folder
        for name, body in outputs.items():
            assert _unquote(body.get("description", "")).strip(), f"{folder.relative_to(TF)}: output {name}"


def test_every_module_has_a_readme_naming_its_inputs_and_outputs():
    for module in MODULE_NAMES:
        readme = MODULES / module / "README.md"
        assert readme.is_file(), readme
        text = readme.read_text()
        for name in [*_module_variables(MODULES / module), *_module_outputs(MODULES / module)]:
            assert f"`{name}`" in text, f"{module}/README.md does not document `{name}`"


def test_helm_charts_are_pinned_to_exact_versions():
    for module in ("ingress", "argocd"):
        variables = _module_variables(MODULES / module)
        releases = {}
        for path in (MODULES / module).glob("*.tf"):
            for block in _load_hcl(path).get("resource", []):
                for kind, named in block.items():
                    if _unquote(kind) == "helm_release":
                        releases.update({_unquote(n): b for n, b in named.items()})
        assert releases, module
        for name, body in releases.items():
            ref = re.fullmatch(r"\$\{var\.(\w+)\}", body["version"])
            assert ref, f"{module}: helm_release {name} version must come from a variable"
            assert EXACT_VERSION.match(_unquote(variables[ref.group(1)]["default"])), (module, name)


# --- terraform binary (offline) ---------------------------------------------------------

@needs_terraform
def test_terraform_fmt_is_clean():
    proc = _terraform(TF, "fmt", "-check", "-recursive", "-diff")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_terraform
def test_provider_free_sizing_module_validates(tmp_path):
    work = shutil.copytree(MODULES / "sizing", tmp_path / "sizing")
    init = _terraform(work, "init", "-backend=false", "-input=false")
    assert init.returncode == 0, init.stderr
    proc = _terraform(work, "validate", "-json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["valid"] is True


def _apply_sizing(work: Path, variables: dict) -> subprocess.CompletedProcess:
    (work / "inputs.tfvars.json").write_text(json.dumps(variables))
    return _terraform(work, "apply", "-auto-approve", "-input=false", "-lock=false", "-no-color",
                      "-var-file=inputs.tfvars.json")


@needs_terraform
def test_sizing_turns_each_environments_generated_values_into_the_node_group(tmp_path):
    platform = load_platform(REPO)
    for env in platform.environments:
        work = shutil.copytree(MODULES / "sizing", tmp_path / env.name)
        assert _terraform(work, "init", "-backend=false", "-input=false").returncode == 0
        data = tfvars_data(platform, env)
        proc = _apply_sizing(work, {k: data[k] for k in ("cluster_name", "node_capacity", "namespace_quota",
                                                         "cloud_identities")})
        assert proc.returncode == 0, f"{env.name}: {proc.stdout}{proc.stderr}"
        outputs = json.loads(_terraform(work, "output", "-json").stdout)
        group = outputs["node_group"]["value"]
        nc = env.node_capacity
        assert (group["instance_types"], group["min_size"], group["max_size"], group["desired_size"]) == (
            [nc.instance_type], nc.nodes_min, nc.nodes_max, nc.nodes_min)
        roles = outputs["workload_roles"]["value"]
        assert sorted(roles) == sorted(c.name for c in platform.enabled_components(env) if c.cloud_identity)
        for name, role in roles.items():
            assert role["subject"] == f"system:serviceaccount:{env.namespace}:{name}"
            assert len(role["role_name"]) <= 64


@needs_terraform
def test_sizing_rejects_a_quota_the_node_group_cannot_hold(tmp_path):
    work = shutil.copytree(MODULES / "sizing", tmp_path / "sizing")
    assert _terraform(work, "init", "-backend=false", "-input=false").returncode == 0
    proc = _apply_sizing(work, {
        "cluster_name": "shop-dev",
        "node_capacity": {"instance_type": "m5.large", "min_size": 1, "max_size": 2,
                          "cpu_per_node": "2", "memory_per_node": "8Gi"},
        "namespace_quota": {"requests_cpu": "4500m", "requests_memory": "1Gi",
                            "limits_cpu": "8", "limits_memory": "2Gi"},
    })
    assert proc.returncode != 0
    assert "requests more CPU than the node group provides" in _said(proc)
    bad_sizes = _apply_sizing(work, {
        "cluster_name": "shop-dev",
        "node_capacity": {"instance_type": "m5.large", "min_size": 3, "max_size": 2,
                          "cpu_per_node": "2", "memory_per_node": "8Gi"},
        "namespace_quota": {"requests_cpu": "1", "requests_memory": "1Gi", "limits_cpu": "1", "limits_memory": "1Gi"},
    })
    assert bad_sizes.returncode != 0 and "1 <= min_size <= max_size" in _said(bad_sizes)


def _plan_composition_checks(tmp_path: Path, env_name: str, tfvars: bytes, settings: str | None = None):
    """The composition's own main.tf + variables.tf, calling the environment module cut down to
    its provider-free variables.tf + checks.tf (same relative layout, so the source resolves)."""
    src = COMPOSITIONS / env_name
    work = tmp_path / env_name / "environments" / env_name
    work.mkdir(parents=True)
    for name in ("main.tf", "variables.tf"):
        shutil.copy(src / name, work / name)
    shared = tmp_path / env_name / "modules" / SHARED.name
    shared.mkdir(parents=True)
    for name in ("variables.tf", "checks.tf"):
        shutil.copy(SHARED / name, shared / name)
    (work / "settings.auto.tfvars").write_text(settings if settings is not None else
                                               (src / "settings.auto.tfvars").read_text())
    (work / "generated.auto.tfvars.json").write_bytes(tfvars)
    init = _terraform(work, "init", "-backend=false", "-input=false")
    assert init.returncode == 0, init.stderr
    return _terraform(work, "plan", "-input=false", "-lock=false", "-no-color")


@needs_terraform
def test_compositions_accept_their_generated_tfvars_and_settings(tmp_path):
    """Every generated value passes the composition's types and validations, and checks.tf agrees
    with the operator settings (backing services inside the VPC, policies only for cloud identities)."""
    platform = load_platform(REPO)
    for env in platform.environments:
        proc = _plan_composition_checks(tmp_path, env.name, render_tfvars(platform, env))
        assert proc.returncode == 0, f"{env.name}: {proc.stdout}{proc.stderr}"


@needs_terraform
def test_composition_checks_catch_a_vpc_that_misses_the_backing_services(tmp_path):
    platform = load_platform(REPO)
    env = platform.environments[0]
    settings = (COMPOSITIONS / env.name / "settings.auto.tfvars").read_text()
    moved = re.sub(r'(?m)^vpc_cidr\s*=.*$', 'vpc_cidr = "172.31.0.0/16"', settings)
    proc = _plan_composition_checks(tmp_path, env.name, render_tfvars(platform, env), moved)
    assert proc.returncode != 0
    assert "outside vpc_cidr 172.31.0.0/16" in _said(proc)


# --- checkov ----------------------------------------------------------------------------

CHECKOV = checkov_bin()


def test_every_checkov_waiver_gives_a_reason():
    waivers = []
    for path in TF.rglob("*.tf"):
        for line in path.read_text().splitlines():
            if "checkov:skip" in line:
                waivers.append((path, line))
                assert re.search(r"#checkov:skip=CKV2?_[A-Z0-9_]+:\s*\S.{15,}", line), f"{path}: {line.strip()}"
    assert waivers, "expected the documented KMS key-policy waivers"


@pytest.mark.skipif(CHECKOV is None, reason="checkov not installed (make tools installs it into .venv-checkov)")
def test_checkov_finds_no_failed_check(tmp_path):
    env = checkov_env(tmp_path)
    proc = subprocess.run([CHECKOV, "-d", str(TF), "--framework", "terraform", "--skip-download",
                           "--output", "json", "--quiet"],
                          capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [f"{r['check_id']} {r['resource']} {r['file_path']}" for rep in reports
              for r in rep.get("results", {}).get("failed_checks", [])]
    assert not failed, "\n".join(failed)
    summary = reports[0]["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 100
    assert proc.returncode == 0, proc.stderr[-2000:]
