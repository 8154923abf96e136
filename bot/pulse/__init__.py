"""The team pulse: rounds and schedule decisions, the scheduler, exports."""
