"""`gitops sync-plan`: how Argo CD brings an environment up from an empty cluster (model in model.py)."""
