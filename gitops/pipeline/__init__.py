"""The synth pipeline: model -> cdk8s constructs -> canonical files -> atomic swap of dist/<env> and argocd/<env>."""
