"""``cotdistill export``: a variant's training instances as JSON lines and a ``datasets`` dataset, the tokens
cotdistill trains on; TRL's ``SFTTrainer`` trains on the dataset with completion-only loss."""

from __future__ import annotations

import json

import pytest
from predict_helpers import QUESTIONS

from cotdistill.cli.main import main


@pytest.fixture()
def exported(tmp_path, task_file, rationales_file, capsys):
    out = tmp_path / "export"
    code = main(["export", "--variant", "cot_after_label", "--task", "jsonl", "--task-path", str(task_file),
                 "--rationales", str(rationales_file), "--student", "tiny", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    return out


def test_export_writes_jsonl_and_a_dataset_of_the_trained_tokens(exported, task_file, rationales_file):
    import datasets

    from cotdistill.data.rationales import RationaleConfig, load_rationales
    from cotdistill.data.tasks import TaskConfig, load_task
    from cotdistill.models import load_tokenizer
    from cotdistill.variants import build_instances, make_variant

    records = [json.loads(line) for line in (exported / "instances.jsonl").read_text().splitlines()]
    dataset = datasets.load_from_disk(str(exported / "dataset"))
    assert len(dataset) == len(records) == len(QUESTIONS)
    assert dataset.to_list() == records
    assert {"id", "prompt", "completion", "segments", "label", "label_text", "input_ids", "completion_mask",
            "loss_weights"} <= set(dataset.column_names)

    # The same tokens the trainer is given: the variant's instances with the student's tokenizer.
    tokenizer = load_tokenizer("tiny")
    examples = load_task(TaskConfig(name="jsonl", path=str(task_file), split="train"))
    rationales = load_rationales(RationaleConfig(path=str(rationales_file)), examples)
    instances = build_instances(examples, rationales, make_variant("cot_after_label"), tokenizer, seed=0)
    for record, instance, (question, choices, answer, _) in zip(records, instances, QUESTIONS):
        assert record["input_ids"] == instance.input_ids
        assert record["completion_mask"] == [0] * len(instance.prompt_ids) + [1] * len(instance.target_ids)
        assert [s["kind"] for s in record["segments"]] == [s.kind for s in instance.segments]
        assert record["segments"][0] == {"kind": "label", "text": f" {choices[answer]}",
                                         "num_tokens": len(instance.segments[0].token_ids)}
        assert record["label"] == answer and record["label_text"] == choices[answer]
        assert record["prompt"].startswith(f"Question: {question}\n") and record["prompt"].endswith("Answer:")
        assert record["completion"].startswith(f" {choices[answer]}\nExplanation:")
    metadata = json.loads((exported / "cotdistill-export.json").read_text())
    assert metadata["variant"] == {"name": "cot_after_label", "params": {}}
    assert metadata["student"]["model"] == "tiny" and metadata["n_instances"] == len(QUESTIONS)


def test_export_refuses_a_non_empty_directory(exported, task_file, capsys):
    before = (exported / "instances.jsonl").read_text()
    code = main(["export", "--variant", "label_only", "--task", "jsonl", "--task-path", str(task_file),
                 "--student", "tiny", "-o", str(exported)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "refusing to overwrite" in err
    assert (exported / "instances.jsonl").read_text() == before
    assert main(["export", "--variant", "label_only", "--task", "jsonl", "--task-path", str(task_file),
                 "--student", "tiny", "-o", str(exported), "--overwrite"]) == 0
    first = json.loads((exported / "instances.jsonl").read_text().splitlines()[0])
    assert {s["kind"] for s in first["segments"]} == {"label"}  # label_only: only the label (and EOS)


def test_export_needs_rationales_for_a_variant_that_uses_them(tmp_path, task_file, capsys):
    code = main(["export", "--variant", "cot_after_label", "--task", "jsonl", "--task-path", str(task_file),
                 "--student", "tiny", "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "rationale" in err


def test_trl_sft_trainer_trains_on_the_export_with_completion_only_loss(exported, tmp_path):
    """What docs/student.md shows, on the tiny model for 2 steps."""
    import datasets
    from trl import SFTConfig, SFTTrainer

    from cotdistill.models import load_tokenizer
    from cotdistill.models.tiny import build_tiny_model

    tokenizer = load_tokenizer("tiny")
    model = build_tiny_model(len(tokenizer))
    dataset = datasets.load_from_disk(str(exported / "dataset"))
    args = SFTConfig(output_dir=str(tmp_path / "sft"), max_steps=2, per_device_train_batch_size=2,
                     completion_only_loss=True, learning_rate=1e-3, logging_steps=1, save_strategy="no",
                     report_to="none", use_cpu=True, bf16=False, disable_tqdm=True)
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)
    # The prompt is masked out of the loss exactly where cotdistill masks it.
    for row, record in zip(trainer.train_dataset, dataset):
        assert row["labels"] == [t if m else -100 for t, m in zip(record["input_ids"], record["completion_mask"])]
        target_length = sum(s["num_tokens"] for s in record["segments"])
        assert row["labels"].count(-100) == len(record["input_ids"]) - target_length
    before = [p.detach().clone() for p in model.parameters()]
    trainer.train()
    assert trainer.state.global_step == 2
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert losses and all(loss > 0 for loss in losses)
    assert any(not (b == p).all() for b, p in zip(before, model.parameters()))
