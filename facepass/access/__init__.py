"""Who may do what: studio-scoped API keys and the audit log.

The admin dependency that checks them is facepass.api.admin.
"""
