"""Hostile input refused at load (issue 17 items 1, 6, 8 and the size limits): exit 2, located, nothing written."""
from __future__ import annotations

import random
import subprocess
import sys

import pytest
import yaml

from gitops.errors import InputError
from gitops.inputs.inputcheck import MAX_FILE_BYTES, MAX_STRING
from gitops.inputs.load import fast_validators, load_platform, validators
from gitops.inputs.namespaces import reserved_namespaces
from gitops.inputs.secretscan import looks_secret

from .conftest import REPO, edit_yaml, load_problems, run_gitops, tree_bytes


# --- item 1: reserved namespaces ------------------------------------------------------------------
def test_reserved_namespaces_come_from_kubernetes_argocd_and_every_addon():
    from charts.addons import ADDONS
    reserved = reserved_namespaces()
    assert {"kube-system", "kube-public", "kube-node-lease", "default", "argocd"} <= reserved
    assert {a.namespace for a in ADDONS} <= reserved


def test_loading_the_reserved_list_does_not_start_cdk8s():
    code = "import sys; from gitops.inputs.namespaces import reserved_namespaces; reserved_namespaces(); print('cdk8s' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("namespace", sorted(reserved_namespaces()))
def test_reserved_namespace_is_refused_with_file_and_line(mini, namespace):
    edit_yaml(mini / "environments/dev.yaml", lambda d: d.update(namespace=namespace))
    problems = load_problems(mini)
    assert any(p.startswith("environments/dev.yaml:") and " at namespace: " in p and f"reserved {namespace!r}" in p
               for p in problems), problems


def test_reserved_namespace_synth_exits_2_and_writes_nothing(mini):
    run_gitops(mini, "synth", "--no-cache", check=True)
    before = tree_bytes(mini / "dist")
    path = mini / "environments/dev.yaml"
    path.write_text(path.read_text().replace("namespace: shop-dev", "namespace: kube-system"))
    proc = run_gitops(mini, "synth", "--no-cache")
    assert proc.returncode == 2, proc.stderr
    assert "environments/dev.yaml:5 at namespace: expected a namespace of this environment's own" in proc.stderr
    assert tree_bytes(mini / "dist") == before


# --- item 6: trailing newlines and control characters --------------------------------------------
@pytest.mark.parametrize("where,edit", [
    ("domain", lambda d: d.update(domain="dev.example.com\n")),
    ("components/shop-api/image/tag", lambda d: d["components"]["shop-api"]["image"].update(tag="v1.2.0\n")),
    ("components/shop-api/image/digest", lambda d: d["components"]["shop-api"]["image"].update(digest="sha256:" + "a" * 64 + "\n")),
    ("namespace", lambda d: d.update(namespace="shop-dev\n")),
])
def test_trailing_newline_is_refused(mini, where, edit):
    edit_yaml(mini / "environments/dev.yaml", edit)
    problems = load_problems(mini)
    assert any(f" at {where}: " in p and "'\\n'" in p for p in problems), problems


def test_trailing_newline_in_image_name_is_refused(mini):
    edit_yaml(mini / "inventory/shop-api.yaml", lambda d: d.update(image=d["image"] + "\n"))
    assert any(" at image: " in p for p in load_problems(mini))


def test_jsonschema_dollar_means_end_of_input_like_the_compiled_check():
    """Without the control-character check, the schema layer alone rejects a final newline (both checks)."""
    env = yaml.safe_load((REPO / "tests/fixtures/mini/environments/dev.yaml").read_text())
    env["domain"] = "dev.example.com\n"
    explained = list(validators()[1].iter_errors(env))
    assert any(list(e.absolute_path) == ["domain"] for e in explained)
    with pytest.raises(Exception):
        fast_validators()[1](env)


def test_fast_check_failure_without_explanation_is_an_error(mini, monkeypatch):
    import gitops.inputs.load as load
    monkeypatch.setattr(load, "schema_valid", lambda data, kind: False if data.get("name") == "dev" else True)

    class Silent:
        def iter_errors(self, data):
            return iter(())
    monkeypatch.setattr(load, "validators", lambda: (Silent(), Silent()))
    problems = load_problems(mini)
    assert problems == ["environments/dev.yaml:1 at (document): does not match the environment schema (the compiled "
                        "check rejected it and the detailed check found no reason; please report this with the file)"]


_CONTROL = [chr(c) for c in (*range(0, 9), *range(11, 32), 0x7f, 0x85, 0x9f, 0x200b, 0x202e, 0x2028, 0xfeff)] + ["\t", "\n"]


def test_random_identifiers_with_control_characters_are_all_refused(mini):
    """Property: any identifier field holding a control or invisible character anywhere is refused."""
    rng = random.Random(17)
    fields = [
        ("environments/dev.yaml", ("domain",)), ("environments/dev.yaml", ("namespace",)),
        ("environments/dev.yaml", ("components", "shop-api", "image", "tag")),
        ("environments/dev.yaml", ("cluster", "server")), ("environments/dev.yaml", ("secretStore", "role")),
        ("inventory/shop-api.yaml", ("image",)), ("inventory/shop-api.yaml", ("owner",)),
        ("inventory/shop-api.yaml", ("health", "liveness")), ("inventory/shop-api.yaml", ("runtime",)),
    ]
    originals = {f: (mini / f).read_text() for f, _ in fields}
    for _ in range(60):
        file, path = rng.choice(fields)
        data = yaml.safe_load(originals[file])
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        value = str(parent[path[-1]])
        pos = rng.randrange(len(value) + 1)
        char = rng.choice(_CONTROL)
        parent[path[-1]] = value[:pos] + char + value[pos:]
        (mini / file).write_text(yaml.safe_dump(data, sort_keys=False))
        with pytest.raises(InputError) as info:
            load_platform(mini)
        where = "/".join(path)
        assert any(p.file == file and p.path == where and p.line for p in info.value.problems), (where, repr(char))
        (mini / file).write_text(originals[file])


def test_control_character_in_a_key_is_refused(mini):
    edit_yaml(mini / "environments/dev.yaml", lambda d: d["components"]["shop-api"].update(env={"LOG_LEVEL\u202e": "info"}))
    assert any("components/shop-api/env/LOG_LEVEL\u202e" in p and "key without control" in p for p in load_problems(mini))


def test_free_text_may_hold_newlines(mini):
    edit_yaml(mini / "inventory/shop-api.yaml", lambda d: d.update(description="Shop API.\nSecond line\twith a tab."))
    load_platform(mini)


# --- Low: sizes ------------------------------------------------------------------------------------
def test_oversized_string_is_refused(mini):
    edit_yaml(mini / "inventory/shop-api.yaml", lambda d: d.update(description="x" * (MAX_STRING + 1)))
    assert any(" at description: expected at most" in p for p in load_problems(mini))


def test_oversized_file_is_refused_before_parsing(mini):
    path = mini / "inventory/shop-api.yaml"
    path.write_text(path.read_text() + "#" * MAX_FILE_BYTES + "\n")
    assert any(p.startswith("inventory/shop-api.yaml at : expected an input file of at most") or
               p.startswith("inventory/shop-api.yaml: expected an input file of at most") for p in load_problems(mini))


# --- item 8: secret-looking plain settings ---------------------------------------------------------
AWS = "AKIA" + "ABCDEFGHIJKLMNOP"
GITHUB = "ghp_" + "a1" * 18
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize("name,value,secret", [
    ("DB_PASSWORD", "hunter2", True), ("STRIPE_API_KEY", "abc", True), ("JWT_SECRET", "x", True),
    ("GITHUB_TOKEN", "x", True), ("SMTP_CREDENTIALS", "x", True),
    ("LOG_LEVEL", AWS, True), ("NOTE", f"hunter2-{AWS}", True), ("X", GITHUB, True), ("X", STRIPE, True), ("CA", PEM, True),
    ("TOKEN_TTL", "3600", False), ("SECRET_NAME", "db-creds", False), ("PASSWORD_MIN_LENGTH", "12", False),
    ("AWS_ACCESS_KEY_ID_FILE", "/var/run/key", False), ("KEYCLOAK_URL", "https://sso", False),
    ("JWT_TTL_MIN", "60", False), ("DB_PASSWORD", "", False), ("CACHE_KEY_PREFIX", "meetinity", False),
])
def test_secret_detection_is_precise(name, value, secret):
    assert (looks_secret(name, value) is not None) == secret


def test_the_real_inventory_has_no_secret_looking_plain_setting():
    load_platform(REPO)  # would raise InputError


def test_plaintext_password_is_refused_at_load(mini):
    def add(d):
        d["env"].append({"name": "DB_PASSWORD", "value": f"hunter2-{AWS}"})
    edit_yaml(mini / "inventory/shop-api.yaml", add)
    problems = load_problems(mini)
    assert any(p.startswith("inventory/shop-api.yaml:") and " at env/4/value: expected no credential" in p
               and "AWS access key ID" in p for p in problems), problems


def test_secret_value_in_an_environment_override_is_refused(mini):
    edit_yaml(mini / "environments/dev.yaml", lambda d: d["components"]["shop-api"].update(env={"LOG_LEVEL": GITHUB}))
    problems = load_problems(mini)
    assert any(" at components/shop-api/env/LOG_LEVEL: expected no credential" in p and "GitHub token" in p
               for p in problems), problems


def test_inventory_waiver_accepts_it_and_the_configmap_carries_it(mini):
    def add(d):
        d["env"].append({"name": "PUBLIC_KEY", "value": "ssh-ed25519 AAAAC3Nza", "waivers": {"SEC002": "a public key, not a secret"}})
    edit_yaml(mini / "inventory/shop-api.yaml", add)
    load_platform(mini)
    run_gitops(mini, "synth", "--no-cache", "--env", "dev", check=True)
    cm = yaml.safe_load((mini / "dist/dev/shop-api/configmap-shop-api-settings.yaml").read_text())
    assert cm["metadata"]["annotations"]["waiver.meetinity.io/SEC002"] == "PUBLIC_KEY: a public key, not a secret"
    edit_yaml(mini / "inventory/shop-api.yaml", lambda d: d["env"][-1].update(waivers={"SEC002": "short"}))
    assert any("env/4/waivers/SEC002" in p for p in load_problems(mini))
