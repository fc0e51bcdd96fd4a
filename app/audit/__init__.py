"""The audit log of staff actions: who did what, when, and how it ended (never member data)."""
