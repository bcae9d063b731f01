"""The GitHub Actions build matrix: one entry per image, from the inventory (``gitops matrix``).

Every buildable component (``Component.is_buildable``: an active workload with a Dockerfile) is
covered. Components sharing an image repository (a cronjob running a service's image with another
command, say) are built once: one image, one build, one tag per commit, so the job and the service
it belongs to can never run different builds of the same version. The entry is named after the
image's owner (long-running components first, then by name) and ``components`` lists every
active component that runs the image, including those without a Dockerfile of their own (a
migration job reusing its service's image): the components a new build of it moves. Two components that share an image but disagree on where it is built
from are an input error (``gitops inventory check`` reports it as INV010).

Entry fields: ``name``, ``repository`` (GitHub ``owner/name`` to check out; null = this
repository), ``context`` and ``dockerfile`` (paths inside that repository), ``image`` (repository
without tag) and ``components``.
"""
from __future__ import annotations

import json

from ..dockerfile.lint import image_owner_rank
from ..errors import InputError, Problem
from ..inputs.model import Platform


def matrix(platform: Platform) -> dict:
    groups: dict[str, list] = {}
    for c in platform.components:
        if c.is_buildable:
            groups.setdefault(c.image_repository or f"(no image) {c.name}", []).append(c)
    # Every active workload running each image, buildable or not (a migration job reusing its service's image).
    users: dict[str, set[str]] = {}
    for c in platform.components:
        if c.is_workload and c.status == "active" and c.image_repository:
            users.setdefault(c.image_repository, set()).add(c.name)
    include = []
    problems = []
    for image, comps in groups.items():
        comps.sort(key=image_owner_rank)
        owner = comps[0]
        for other in comps[1:]:
            if (other.source_repository, other.source_path, other.dockerfile) != (
                    owner.source_repository, owner.source_path, owner.dockerfile):
                problems.append(Problem(other.source_file, "source",
                                        f"{other.name} shares image {image} with {owner.name} but builds it from "
                                        f"{other.dockerfile} instead of {owner.dockerfile}: one image, one build"))
        include.append({
            "name": owner.name,
            "repository": owner.source_repository,
            "context": owner.source_path or ".",
            "dockerfile": owner.dockerfile,
            "image": owner.image_repository,
            "components": sorted({c.name for c in comps} | users.get(owner.image_repository, set())),
        })
    if problems:
        raise InputError(problems)
    return {"include": sorted(include, key=lambda e: e["name"])}


def render_json(platform: Platform) -> str:
    return json.dumps(matrix(platform), indent=2, sort_keys=True) + "\n"
