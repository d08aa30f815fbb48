"""Who may do what: studio-scoped API keys, the admin dependency, and the audit log."""
