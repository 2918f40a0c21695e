"""HTTP plumbing shared by the handlers: problems, request context, limits, validation."""
