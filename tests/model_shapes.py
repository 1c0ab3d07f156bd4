"""Real models' shapes for tests and benchmarks that need a model's size, not its
weights (the fit estimate, memory benchmarks on random weights)."""

# Qwen2.5-0.5B's config.json: 494 M parameters.
QWEN25_05B = {
    "model_type": "qwen2",
    "hidden_size": 896,
    "intermediate_size": 4864,
    "num_hidden_layers": 24,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
    "max_position_embeddings": 32768,
    "rope_theta": 1000000.0,
    "rms_norm_eps": 1e-6,
    "tie_word_embeddings": True,
    "vocab_size": 151936,
}
