"""Modal dialogs, one per file. Each gets plain data and dismisses with the agent's choice."""
