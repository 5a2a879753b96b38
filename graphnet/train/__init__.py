"""Training: compile arguments -> spec, the compiled step, device data, the dispatch loop."""
