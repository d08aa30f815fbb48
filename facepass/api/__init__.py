"""Routers, one per feature (HTTP only), and the FastAPI dependencies on the app's context."""
