"""Queries that answer questions from the stored documents."""
