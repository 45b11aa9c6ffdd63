"""The event log: what changed, who did it, in the transaction of the change (append-only)."""
