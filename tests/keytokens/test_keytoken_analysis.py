"""Logit lens (last layer = the model's own output), its figure and CLI; the heatmap page and keytokens CLI."""

from __future__ import annotations

import json

import pytest
import torch

from cotdistill.cli.main import main
from cotdistill.data.example import Example
from cotdistill.keytokens.analysis import logit_lens, render_heatmap, write_logit_lens
from cotdistill.keytokens.api import RationaleScores
from cotdistill.prompting import PromptFormat
from cotdistill.variants import make_variant

QUESTIONS = [
    {"id": "q1", "question": {"stem": "What warms the rock?", "choices": [{"label": "A", "text": "the sun"},
                                                                          {"label": "B", "text": "ice"}]},
     "answerKey": "A"},
    {"id": "q2", "question": {"stem": "What is cold?", "choices": [{"label": "A", "text": "fire"},
                                                                   {"label": "B", "text": "snow"}]},
     "answerKey": "B"},
    {"id": "q3", "question": {"stem": "What is heavy?", "choices": [{"label": "A", "text": "a rock"},
                                                                    {"label": "B", "text": "a leaf"}]},
     "answerKey": "A"},
]
RATIONALES = {"q1": "The sun heats the rock.", "q2": "Snow is frozen water, so it is cold.",
              "q3": "A rock has more mass than a leaf."}


@pytest.fixture()
def task_dir(tmp_path):
    folder = tmp_path / "obqa"
    folder.mkdir()
    for split in ("test", "dev"):
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    return folder


@pytest.fixture()
def rationale_file(tmp_path):
    path = tmp_path / "rationales.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in RATIONALES.items()))
    return path


def _examples():
    return [Example(id=q["id"], question=q["question"]["stem"],
                    choices={c["label"]: c["text"] for c in q["question"]["choices"]}, answer=q["answerKey"])
            for q in QUESTIONS]


def _fake_student(path, tokenizer, variant: str, seed: int):
    from cotdistill.models.tiny import build_tiny_model

    build_tiny_model(len(tokenizer), seed=seed).save_pretrained(path)
    tokenizer.save_pretrained(path)
    (path / "cotdistill.json").write_text(json.dumps({
        "finished": True, "variant": {"name": variant, "params": {}},
        "prompt_format": {"label_style": "text", "show_choices": True}}))
    return path


def test_last_layer_of_the_lens_is_the_models_output(tiny_tokenizer, tiny_model):
    examples = _examples()
    fmt = PromptFormat()
    variant = make_variant("label_only")
    result = logit_lens(tiny_model, tiny_tokenizer, examples, variant=variant, prompt_format=fmt, batch_size=2)
    assert len(result.mean_prob) == tiny_model.config.num_hidden_layers + 1
    probs, ranks = [], []
    for ex in examples:
        ids = tiny_tokenizer(variant.eval_prompt(ex, fmt))["input_ids"]
        gold = tiny_tokenizer(fmt.label_text(ex, ex.answer), add_special_tokens=False)["input_ids"][0]
        with torch.no_grad():
            p = tiny_model(input_ids=torch.tensor([ids])).logits[0, -1].float().softmax(-1)
        probs.append(p[gold].item())
        ranks.append((p > p[gold]).sum().item() + 1)
    assert result.mean_prob[-1] == pytest.approx(sum(probs) / 3, rel=1e-4)
    assert result.mean_rank[-1] == pytest.approx(sum(ranks) / 3)
    assert all(1 <= r <= len(tiny_tokenizer) for r in result.mean_rank)


def test_logit_lens_command_compares_students_on_one_figure(tmp_path, task_dir, tiny_tokenizer):
    a = _fake_student(tmp_path / "a", tiny_tokenizer, "label_only", seed=1)
    b = _fake_student(tmp_path / "b", tiny_tokenizer, "cot_after_label", seed=2)
    out = tmp_path / "lens"
    args = ["analyze", "logit-lens", "--student", str(a), "--student", str(b), "--task", "openbookqa",
            "--task-path", str(task_dir), "--output", str(out)]
    assert main(args) == 0
    numbers = json.loads((out / "logit_lens.json").read_text())
    assert [r["name"] for r in numbers] == ["label_only", "cot_after_label"] and numbers[0]["n"] == 3
    assert (out / "logit_lens.png").read_bytes()[:4] == b"\x89PNG"
    assert main(args) == 2  # never overwrites


def test_write_logit_lens_refuses_to_overwrite(tmp_path, tiny_tokenizer, tiny_model):
    result = logit_lens(tiny_model, tiny_tokenizer, _examples(), variant=make_variant("label_only"),
                        prompt_format=PromptFormat())
    write_logit_lens([result], tmp_path)
    with pytest.raises(Exception, match="refusing to overwrite"):
        write_logit_lens([result], tmp_path)


def test_heatmap_shows_each_selector_side_by_side():
    ex = _examples()[0]
    scores = {"occlusion": {"q1": RationaleScores("q1", "occlusion", ["The", "sun<b>"], [0.0, 2.0], [], [])},
              "tfidf": {"q1": RationaleScores("q1", "tfidf", ["The", "sun<b>"], [-1.0, 0.5], [], [])}}
    page = render_heatmap([ex], scores, title="t")
    assert page.count("class='selector'") == 2 and "repeat(2, 1fr)" in page
    assert "sun&lt;b&gt;" in page and "sun<b>" not in page  # escaped
    assert "rgba(220,40,40,1.000)" in page  # the strongest positive word, full red
    assert "rgba(40,90,220,1.000)" in page  # the strongest negative, full blue


def test_keytokens_command_writes_scores_and_heatmap(tmp_path, task_dir, rationale_file, tiny_tokenizer,
                                                     tiny_model):
    scorer_dir = tmp_path / "scorer"
    tiny_model.save_pretrained(scorer_dir)
    tiny_tokenizer.save_pretrained(scorer_dir)
    out = tmp_path / "kt"
    args = ["keytokens", "--task", "openbookqa", "--task-path", str(task_dir), "--rationales", str(rationale_file),
            "--selector", "gradient_x_input", "--selector", "tfidf", "--scorer", str(scorer_dir), "--k", "2",
            "--output", str(out), "--cache-dir", str(tmp_path / "cache")]
    assert main(args) == 0
    rows = [json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and {r["selector"] for r in rows} == {"gradient_x_input", "tfidf"}
    assert all(len(r["key_words"]) == 2 and len(r["words"]) == len(r["word_scores"]) for r in rows)
    assert "Snow" in (out / "heatmap.html").read_text()
    assert main(args) == 2  # refuses to overwrite
    assert main([*args, "--overwrite", "--k", "0.5"]) == 0


def test_keytokens_command_flag_errors(tmp_path, task_dir, rationale_file, capsys):
    base = ["keytokens", "--task", "openbookqa", "--task-path", str(task_dir), "--rationales", str(rationale_file),
            "--output", str(tmp_path / "o")]
    assert main([*base, "--selector", "occlusion"]) == 2
    assert "--scorer" in capsys.readouterr().err
    assert main([*base, "--selector", "tfidf", "--k", "many"]) == 2
    assert "--k" in capsys.readouterr().err
    assert main([*base, "--selector", "tfidf", "--selector-param", "steps=4"]) == 2
    assert "--selector-param" in capsys.readouterr().err
