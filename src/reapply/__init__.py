"""Rules changed after the fact, applied to what is stored: tutorial states re-derived
(`recompute`), REDACT_KEYS applied to stored documents (`redact`); both resumable passes
(`checkpoint`)."""
