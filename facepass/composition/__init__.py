"""Composition: builds the process's contexts, runs its background work and worker processes."""
