"""Usage analytics: validations, searches and consents per session per day."""
