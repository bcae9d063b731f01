"""CLI commands, one module per topic; each module exports COMMANDS (a list of click commands)."""
