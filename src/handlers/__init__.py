"""One module per resource of the spec; each function is an operationId."""
