"""cdk8s constructs: one concept per module. They read the typed model only (gitops.inputs.model)."""
