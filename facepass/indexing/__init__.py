"""Background indexing: queue actors, the worker, the reconciler, re-indexing."""
