"""Operations on a rendered or running platform: diff, capacity, scaffolding, status page, Argo CD client, inventory checks."""
