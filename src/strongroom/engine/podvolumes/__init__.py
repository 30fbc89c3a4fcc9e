"""Pod volumes in backups: the node agent's work and the client's side (docs/node-agent.md)."""
