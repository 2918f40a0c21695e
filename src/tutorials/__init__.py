"""Tutorial progress and course completion: the rules (pure) and the course catalogue.

Progress events travel through the queue like every other event; the flusher merges
them into facts (`footfall.store.tutorial_states`) and stores what `completion.derive` makes
of those facts. Reads answer from the stored state (`footfall.reads.progress`).
"""
