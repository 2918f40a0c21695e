"""A learner's data: export everything held about one learner, erase it (footfall.learners)."""
