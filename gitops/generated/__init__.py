"""Side outputs generated from the model besides the manifests: docs, compose, Terraform inputs, CODEOWNERS, CI matrix, adapter rules."""
