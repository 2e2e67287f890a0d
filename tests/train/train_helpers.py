"""Small in-memory tasks and rationales for the train tests."""

from __future__ import annotations

from cotdistill.data.example import Example
from cotdistill.data.rationale import Rationale

QUESTIONS = [
    ("Which object has more friction?", {"A": "ice", "B": "carpet"}, "B",
     "A rough surface like carpet has more friction than smooth ice."),
    ("What makes a plant grow toward the window?", {"A": "light", "B": "sound", "C": "cold"}, "A",
     "Plants bend toward light because they need it to make food."),
    ("Which is heavier?", {"A": "a rock", "B": "a leaf"}, "A", "A rock has more mass than a leaf."),
    ("What melts ice fastest?", {"A": "cold air", "B": "warm water"}, "B",
     "Warm water carries heat to the ice and melts it quickly, much faster than air."),
    ("Where does rain come from?", {"A": "soil", "B": "clouds", "C": "trees", "D": "rocks"}, "B",
     "Water in clouds falls as rain."),
    ("What does the sun give the earth?", {"A": "heat and light", "B": "rocks"}, "A",
     "The sun sends heat and light to the earth every day."),
]


def tiny_examples(n: int = 6) -> list[Example]:
    out = []
    for i in range(n):
        question, choices, answer, _ = QUESTIONS[i % len(QUESTIONS)]
        out.append(Example(id=f"q{i}", question=question, choices=choices, answer=answer))
    return out


def tiny_rationales(n: int = 6) -> dict[str, Rationale]:
    return {f"q{i}": Rationale(id=f"q{i}", text=QUESTIONS[i % len(QUESTIONS)][3], source="test")
            for i in range(n)}


def tiny_instances(tokenizer, n: int = 6, variant: str = "cot_after_label"):
    from cotdistill.variants import build_instances, make_variant

    return build_instances(tiny_examples(n), tiny_rationales(n), make_variant(variant), tokenizer, seed=0)


def _permute_for_gguf(weights, n_head: int):
    """llama.cpp's q/k row order (convert_hf_to_gguf's ``permute``); transformers undoes it on load."""
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def write_tiny_gguf(model, tokenizer, path) -> None:
    """Write a tiny Llama student and its byte-level BPE tokenizer as a real (F32) GGUF file."""
    import json

    import gguf

    cfg = model.config
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny")
    writer.add_block_count(cfg.num_hidden_layers)
    writer.add_context_length(cfg.max_position_embeddings)
    writer.add_embedding_length(cfg.hidden_size)
    writer.add_feed_forward_length(cfg.intermediate_size)
    writer.add_head_count(cfg.num_attention_heads)
    writer.add_head_count_kv(cfg.num_key_value_heads)
    writer.add_rope_freq_base(float(cfg.rope_parameters["rope_theta"]))
    writer.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    writer.add_rope_dimension_count(cfg.hidden_size // cfg.num_attention_heads)
    writer.add_vocab_size(cfg.vocab_size)
    writer.add_file_type(0)
    spec = json.loads(tokenizer.backend_tokenizer.to_str())
    vocab = spec["model"]["vocab"]
    tokens = sorted(vocab, key=vocab.get)
    special = set(tokenizer.all_special_tokens)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt2")
    writer.add_token_list(tokens)
    writer.add_token_types([3 if t in special else 1 for t in tokens])
    writer.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in spec["model"]["merges"]])
    writer.add_eos_token_id(tokenizer.eos_token_id)
    writer.add_pad_token_id(tokenizer.pad_token_id)
    names = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight"}
    per_layer = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
                 "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
                 "post_attention_layernorm": "ffn_norm", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
                 "mlp.down_proj": "ffn_down"}
    for i in range(cfg.num_hidden_layers):
        for hf, gg in per_layer.items():
            names[f"model.layers.{i}.{hf}.weight"] = f"blk.{i}.{gg}.weight"
    for name, tensor in model.state_dict().items():
        if name not in names:
            continue  # the tied lm_head
        array = tensor.detach().float().numpy()
        if name.endswith("q_proj.weight"):
            array = _permute_for_gguf(array, cfg.num_attention_heads)
        elif name.endswith("k_proj.weight"):
            array = _permute_for_gguf(array, cfg.num_key_value_heads)
        writer.add_tensor(names[name], array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
