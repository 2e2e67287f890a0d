"""The model card (``README.md``) of a trained student, in the Hugging Face model-card format.

The YAML header is :class:`huggingface_hub.ModelCardData`: ``base_model`` (the hub id the student was fine-tuned
from, where there is one), ``datasets`` (the task's hub dataset, where there is one), ``library_name``, ``tags``,
and, once the student has been evaluated, ``model-index`` results (label-first and reasoning-first accuracy).
The body says what the student was trained on, the prompt format with a worked example (the exact prompt and
answer text the student was trained with, built by its variant), and every recorded evaluation with its 95%
Wilson interval and its cost per answer (seconds and tokens generated, the precision and the machine).

The card is written when training finishes and rewritten from ``cotdistill.json`` when an evaluation is recorded
(``cotdistill eval --update-card``): evaluations are kept in ``cotdistill.json`` under ``evaluations``, one per
(task, split, path, mode), the latest replacing an earlier one of the same key (each names its results directory,
where the full predictions stay).
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

from cotdistill.data.example import Example
from cotdistill.errors import DataError
from cotdistill.models.metadata import METADATA_FILE, read_metadata, recorded_prompt_format, write_metadata

#: Hub ids of the packaged students (their GGUF files are quantized conversions of these models).
PACKAGED_BASE_MODELS = {"smollm2-135m": "HuggingFaceTB/SmolLM2-135M-Instruct", "gemma3-270m": "google/gemma-3-270m"}
#: Hub datasets of the built-in tasks (local copies are of the same data).
TASK_DATASETS = {"commonsense_qa": "tau/commonsense_qa", "openbookqa": "allenai/openbookqa",
                 "quarel": "community-datasets/quarel", "quarel_ni": "community-datasets/quarel"}
CARD_FILE = "README.md"
TAGS = ["cotdistill", "chain-of-thought-distillation", "multiple-choice"]
#: The question every card's worked example asks.
EXAMPLE_QUESTION = Example(id="example", question="Which object has more friction?",
                           choices={"A": "ice", "B": "carpet"}, answer="B")
EXAMPLE_RATIONALE = "A rough surface like carpet has more friction than smooth ice."
# Another training example's rationale: some variants (other_example_cot_after_label) borrow one and cannot build
# an instance from the worked example's own alone.
OTHER_RATIONALE_ID, OTHER_RATIONALE = "other-example", "A heavy ball keeps its momentum longer on the grass."


def base_model_id(student: dict[str, Any] | None) -> str | None:
    """The hub id a student was fine-tuned from: a packaged alias's source model, or a hub id given as is (a
    local directory or the tiny random student has none)."""
    model = (student or {}).get("model")
    if not isinstance(model, str):
        return None
    if model in PACKAGED_BASE_MODELS:
        return PACKAGED_BASE_MODELS[model]
    if model == "tiny" or Path(model).exists() or model.count("/") != 1 or model.startswith((".", "/", "~")):
        return None
    return model


def dataset_ids(task: dict[str, Any] | None) -> list[str]:
    task = task or {}
    hub = task.get("hub_name") or TASK_DATASETS.get(task.get("name", ""))
    return [hub] if hub else []


def wilson_interval(correct: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (statsmodels)."""
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(correct, n, alpha=0.05, method="wilson")
    return float(low), float(high)


def machine_description() -> str:
    """The processor evaluations run on (students are evaluated where they are loaded: on the CPU)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def worked_example(metadata: dict[str, Any], student_dir: Path, tokenizer: Any) -> tuple[str, str]:
    """``(prompt, target)`` of :data:`EXAMPLE_QUESTION` as the student's variant builds it with the student's
    tokenizer (decoded; the variant's seed 0): the prompt it is asked, and what it was trained to write after it.
    Key-token variants need scores of a scorer model to build the target; their target shows the label alone."""
    from cotdistill.data.rationale import Rationale
    from cotdistill.evaluate.api import trained_variant_config
    from cotdistill.variants import build_instances

    variant_cfg = trained_variant_config(metadata, student_dir)
    variant, prompt_format = variant_cfg.build_variant(), variant_cfg.prompt_format()
    prompt = variant.eval_prompt(EXAMPLE_QUESTION, prompt_format)
    if getattr(variant, "uses_scores", False):
        return prompt, prompt_format.label_text(EXAMPLE_QUESTION, EXAMPLE_QUESTION.answer or "") + " ..."
    rationales = {EXAMPLE_QUESTION.id: Rationale(id=EXAMPLE_QUESTION.id, text=EXAMPLE_RATIONALE),
                  OTHER_RATIONALE_ID: Rationale(id=OTHER_RATIONALE_ID, text=OTHER_RATIONALE)}
    [instance, *_] = build_instances([EXAMPLE_QUESTION], rationales, variant, tokenizer, prompt_format=prompt_format)
    return prompt, tokenizer.decode(instance.target_ids)


def _evaluation_key(entry: dict[str, Any]) -> tuple:
    task = entry.get("task") or {}
    return task.get("name"), task.get("split"), task.get("path"), entry.get("mode")


def evaluation_entry(result: Any, results_dir: str | Path) -> dict[str, Any]:
    """What the card keeps of one :class:`cotdistill.evaluate.EvalResult` of a trained student."""
    metrics, run = result.metrics, result.run
    return {"task": run.get("task"), "mode": run.get("mode"), "accuracy": metrics.get("accuracy"),
            "acc_norm": metrics.get("acc_norm"), "n_labeled": metrics.get("n_labeled"),
            "seconds_per_answer": metrics.get("seconds_per_answer"),
            "mean_tokens_generated": metrics.get("mean_tokens_generated"), "precision": run.get("precision"),
            "machine": machine_description(), "threads": _threads(), "results": str(results_dir)}


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def record_evaluations(student_dir: str | Path, entries: list[dict[str, Any]]) -> Path:
    """Add evaluation entries to the student's ``cotdistill.json`` and rewrite its model card."""
    student_dir = Path(student_dir)
    metadata = read_metadata(student_dir)
    if metadata is None:
        raise DataError(f"no {METADATA_FILE} here; not a cotdistill training directory", path=student_dir)
    kept = {_evaluation_key(e): e for e in metadata.get("evaluations", [])}
    kept.update({_evaluation_key(e): e for e in entries})
    metadata["evaluations"] = list(kept.values())
    write_metadata(student_dir, metadata)
    return write_model_card(student_dir, metadata)


def write_model_card(student_dir: str | Path, metadata: dict[str, Any], tokenizer: Any = None) -> Path:
    """Write ``README.md``; ``tokenizer`` is the student's (loaded from the directory when not given)."""
    student_dir = Path(student_dir)
    if tokenizer is None:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(student_dir)
    card = student_dir / CARD_FILE
    card.write_text(model_card(student_dir, metadata, tokenizer))
    return card


def card_data(student_dir: Path, metadata: dict[str, Any]):
    """The card's YAML header as :class:`huggingface_hub.ModelCardData`."""
    from huggingface_hub import EvalResult, ModelCardData

    results = []
    for entry in metadata.get("evaluations", []):
        if entry.get("accuracy") is None:
            continue
        task = entry.get("task") or {}
        datasets = dataset_ids(task)
        results.append(EvalResult(
            task_type="multiple-choice", task_name="Multiple-choice question answering",
            dataset_type=datasets[0] if datasets else str(task.get("name")),
            dataset_name=str(task.get("name")), dataset_split=task.get("split"),
            metric_type="accuracy", metric_name=f"{entry['mode']} accuracy", metric_value=entry["accuracy"]))
    return ModelCardData(
        model_name=student_dir.name, base_model=base_model_id(metadata.get("student")),
        datasets=dataset_ids(metadata.get("task")) or None, library_name="transformers",
        pipeline_tag="text-generation", tags=list(TAGS), eval_results=results or None)


def _brief(record: Any, keys: tuple[str, ...]) -> str:
    """A few identifying fields of a config record."""
    if not isinstance(record, dict):
        return "n/a" if record is None else str(record)
    return ", ".join(f"{k}={record[k]}" for k in keys if record.get(k) is not None) or "n/a"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def _evaluation_table(evaluations: list[dict[str, Any]]) -> str:
    if not evaluations:
        return ("Not evaluated yet: `cotdistill eval --student <this directory> --task ... --output ... "
                "--update-card` adds its accuracy here.\n")
    rows = ["| task | split | mode | accuracy | 95% CI (Wilson) | n | s / answer | tokens / answer | precision, "
            "machine | results |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for e in evaluations:
        task, n, accuracy = e.get("task") or {}, e.get("n_labeled") or 0, e.get("accuracy")
        interval = "n/a"
        if accuracy is not None and n:
            low, high = wilson_interval(round(accuracy * n), n)
            interval = f"{_percent(low)} - {_percent(high)}"
        seconds = e.get("seconds_per_answer")
        tokens = e.get("mean_tokens_generated")
        rows.append(f"| {task.get('name')} | {task.get('split')} | {e.get('mode')} | {_percent(accuracy)} | "
                    f"{interval} | {n} | {'n/a' if seconds is None else f'{seconds:.4f}'} | "
                    f"{'n/a' if tokens is None else f'{tokens:.1f}'} | {e.get('precision')}, {e.get('machine')} "
                    f"({e.get('threads')} threads) | `{e.get('results')}` |")
    return "\n".join(rows) + "\n"


def model_card(student_dir: Path, metadata: dict[str, Any], tokenizer: Any) -> str:
    """The whole ``README.md``: YAML header, then the body."""
    data = card_data(student_dir, metadata)
    student = metadata.get("student") if isinstance(metadata.get("student"), dict) else {}
    variant = metadata.get("variant") if isinstance(metadata.get("variant"), dict) else {}
    result = metadata.get("result") if isinstance(metadata.get("result"), dict) else {}
    loss = result.get("final_loss")
    loss_text = "n/a" if loss is None else f"{loss:.4f}"
    lora = student.get("lora")
    lora_text = ""
    if isinstance(lora, dict):
        kept = "adapter" if metadata.get("weights") == "lora_adapter" else "merged"
        lora_text = f" + LoRA r={lora.get('r')} ({kept})"
    datasets = ", ".join(data.datasets or []) or "local files"
    base = base_model_id(student)
    source = f"`{base}`" if base else "none on the hub"
    if student.get("model") in PACKAGED_BASE_MODELS:
        source += f" (cotdistill's packaged `{student['model']}`: its GGUF quantization, dequantized to fp32)"
    prompt_format = recorded_prompt_format(metadata)
    label_style = prompt_format["label_style"]
    scored = ("the choice letters (` A`, ` B`, ...)" if label_style == "letter"
              else "the choice texts (` ice`, ` carpet`)")
    if variant and isinstance(metadata.get("prompt_format"), dict) and metadata["prompt_format"]:
        prompt, target = worked_example(metadata, student_dir, tokenizer)
        labels = "letters" if label_style == "letter" else "choice texts"
        shown = "listed" if prompt_format["show_choices"] else "not listed"
        prompt_section = f"""Labels are written as {labels}; the choices are {shown} in the prompt. The question
"{EXAMPLE_QUESTION.question}" is asked as the prompt below, and the student was trained to write the target
after it (label-first use ranks {scored} by log-probability right after `Answer:`):

```text
{prompt}
```

Target:

```text
{target}
```"""
    else:
        # Students trained through the library with metadata of their own: nothing to build the example from.
        prompt_section = f"Not recorded in `{METADATA_FILE}` (no `variant` / `prompt_format`)."
    body = f"""
# {student_dir.name}

A student language model fine-tuned with cotdistill (chain-of-thought augmented
distillation, after Wadhwa, Amir & Wallace, EMNLP 2024) to answer multiple-choice questions.

## Training

- base model: {source}; student `{student.get('model', 'n/a')}`{lora_text}
- training variant: `{variant.get('name', 'n/a')}` {json.dumps(variant.get('params') or {})}
- task: {_brief(metadata.get('task'), ('name', 'split', 'path', 'limit'))}; datasets: {datasets}
- rationales: {_brief(metadata.get('rationales'), ('path', 'format', 'label_policy'))}
- seed: {metadata.get('seed', 'n/a')}; steps: {result.get('steps', 'n/a')}; final training loss: {loss_text}

## Prompt format

{prompt_section}

## Evaluation

{_evaluation_table(metadata.get('evaluations', []))}
## Use

```bash
cotdistill predict --student {student_dir.name} --input questions.jsonl -o answers.jsonl
```

or `cotdistill.predict.Student.load(path).predict(questions)`; the weights load with
`transformers.AutoModelForCausalLM.from_pretrained(path)`. Full configuration and metadata: `{METADATA_FILE}`.
"""
    return f"---\n{data.to_yaml()}\n---\n{body}"
