"""Domain-free controller machinery: watch cache, work queue, reconciler steps, conditions, events."""
