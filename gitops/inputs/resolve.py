"""Effective values of a component in an environment: inventory defaults + environment overrides."""
from __future__ import annotations


from .model import Component, Environment, Resolved, Resources

PLACEHOLDER_TAG = "0.0.0-unreleased"


def image_ref(component: Component, env: Environment) -> tuple[str, str]:
    """(full image reference, version label). Digest-pinned where the environment gives one."""
    settings = env.settings(component.name)
    image = settings.image if settings else None
    tag = image.tag if image else PLACEHOLDER_TAG
    ref = f"{component.image_repository}:{tag}"
    if image and image.digest:
        ref += f"@{image.digest}"
    return ref, tag


def resolve(component: Component, env: Environment) -> Resolved:
    settings = env.settings(component.name)
    image, version = image_ref(component, env)
    resources = (settings.resources if settings and settings.resources else component.resources) or Resources("100m", "128Mi", "500m", "512Mi")
    autoscaling = (settings.autoscaling if settings and settings.autoscaling else component.autoscaling)
    if not component.is_long_running:
        autoscaling = None
    replicas = settings.replicas if settings and settings.replicas is not None else (
        autoscaling.min_replicas if autoscaling else 1)
    overrides = dict(settings.env) if settings else {}
    env_values = []
    for var in component.plain_env:
        value = overrides.get(var.name, var.value)
        if value is not None:
            env_values.append((var.name, value))
    # The app's auth-exempt path lists (e.g. the gateway's API_KEY_EXEMPT_PATHS, default "/health"
    # only) come from the paths the inventory declares unauthenticated, so probes and Prometheus get in.
    if component.unauthenticated:
        exempt = ",".join(component.unauthenticated.paths)
        env_values.extend((var, exempt) for var in component.unauthenticated.exempt_paths_env)
    secret_overrides = dict(settings.secret_keys) if settings else {}
    secret_refs = tuple(
        (var.name, secret_overrides.get(var.name, var.secret)) for var in component.secret_env
    )
    return Resolved(
        component=component, env=env, image=image, version=version, resources=resources,
        autoscaling=autoscaling, replicas=replicas, env_values=tuple(env_values), secret_refs=secret_refs,
    )
