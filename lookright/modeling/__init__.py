"""Models: resolving the default model, loading with a head, LoRA, saving/loading trained dirs."""
