"""The embedded default: the real Qwen3 tokenizer rebuilt offline, and a Qwen3-0.6B stand-in."""
