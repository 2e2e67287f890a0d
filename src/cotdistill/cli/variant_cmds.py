"""``cotdistill variants``: list the registered variants and show what a student is trained on."""

from __future__ import annotations

from typing import Any

import typer
import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cotdistill.cli.app import app
from cotdistill.cli.data_cmds import parse_field_flags, rationale_config, task_examples
from cotdistill.cli.options import ConfigFlags, field_type, num_examples_option
from cotdistill.data.rationales import (
    LabelPolicy,
    RationaleConfig,
    RationaleFormat,
    RationaleSplit,
    apply_label_policy,
    load_rationales,
)
from cotdistill.data.tasks import TaskConfig
from cotdistill.errors import ConfigError
from cotdistill.variants import VARIANTS, build_instances
from cotdistill.variants.config import VariantConfig

LabelStyle = field_type(VariantConfig, "label_style")

variants_app = typer.Typer(help="Training variants: list them, show built examples.", no_args_is_help=True)
app.add_typer(variants_app, name="variants")

#: The flags of ``cotdistill variants show`` that set keys of its VariantConfig, TaskConfig and RationaleConfig.
SHOW_VARIANT_FLAGS = ConfigFlags("variants show", VariantConfig)
SHOW_TASK_FLAGS = ConfigFlags("variants show", TaskConfig)
SHOW_RATIONALE_FLAGS = ConfigFlags("variants show", RationaleConfig)


def _variant_params(pairs: list[str] | None) -> dict[str, Any]:
    """--param KEY=VALUE items -> variant parameters, each value read as YAML (``0.5`` a number)."""
    return {k: yaml.safe_load(v) if isinstance(v, str) else v
            for k, v in (parse_field_flags(pairs, "--param") or {}).items()}


@variants_app.command("list")
def list_variants() -> None:
    """List every registered variant with its parameters."""
    table = Table("variant", "answer first", "parameters", "what the target is")
    for name in VARIANTS.names():
        cls = VARIANTS.get(name)
        table.add_row(name, "yes" if cls.answer_first else "no", ", ".join(cls.param_names()) or "-",
                      cls.description)
    Console().print(table)


_SEGMENT_STYLES = {"label": "bold green", "rationale": "cyan", "filler": "magenta"}


def _show_tokenizer(name: str, texts: list[str]):
    if name == "tiny":
        from cotdistill.models.tiny import build_tiny_tokenizer

        # Trained on the shown texts so that their tokens are words, not bytes.
        return build_tiny_tokenizer(texts)
    from cotdistill.models import load_tokenizer

    return load_tokenizer(name)


@variants_app.command("show")
def show_variant(
    ctx: typer.Context,
    variant: str = SHOW_VARIANT_FLAGS.option("--variant", "name", default=...),
    param: list[str] | None = SHOW_VARIANT_FLAGS.option("--param", "params", convert=_variant_params,
                                                        note="Here: KEY=VALUE (repeatable)."),
    task: str = SHOW_TASK_FLAGS.option("--task", "name", default=...),
    task_path: str | None = SHOW_TASK_FLAGS.option("--task-path", "path"),
    split: str = SHOW_TASK_FLAGS.option("--split", "split", default="validation"),
    rationales: str | None = SHOW_RATIONALE_FLAGS.option("--rationales", "path"),
    rationales_format: RationaleFormat = SHOW_RATIONALE_FLAGS.option("--rationales-format", "format",
                                                                     default="jsonl"),
    rationales_split: RationaleSplit | None = SHOW_RATIONALE_FLAGS.option("--rationales-split", "split",
                                                                          note="Default: from --split."),
    label_policy: LabelPolicy = SHOW_RATIONALE_FLAGS.option("--label-policy", "label_policy", default="keep"),
    label_style: LabelStyle = SHOW_VARIANT_FLAGS.option("--label-style", "label_style", default="text"),
    show_choices: bool = SHOW_VARIANT_FLAGS.option("--show-choices/--hide-choices", "show_choices", default=True),
    num_examples: int = num_examples_option(3, "How many examples to build and print.", min=1),
    tokenizer_name: str = typer.Option("tiny", "--tokenizer", help="tiny, a student alias or a model id/dir."),
    seed: int = typer.Option(0, "--seed", help="Seed of the variant's randomness."),
) -> None:
    """Print a few built training examples: the prompt, then the target coloured by segment kind."""
    vcfg = SHOW_VARIANT_FLAGS.validate({}, SHOW_VARIANT_FLAGS.overrides(ctx), source="command line")
    built_variant = vcfg.build_variant(field_prefix="--variant")
    examples = [ex for ex in task_examples(SHOW_TASK_FLAGS, ctx) if ex.answer is not None]
    loaded = {}
    if rationales is not None:
        rcfg = rationale_config(SHOW_RATIONALE_FLAGS, ctx, split)
        loaded = load_rationales(rcfg, examples)
        examples, loaded = apply_label_policy(examples, loaded, rcfg.label_policy)
    elif built_variant.needs_rationale:
        raise ConfigError(f"variant '{variant}' trains on rationales: give them", field="--rationales")
    chosen = [ex for ex in examples if ex.id in loaded or not built_variant.needs_rationale][:num_examples]
    texts = [vcfg.prompt_format().prompt(ex) for ex in chosen] + [loaded[ex.id].text for ex in chosen
                                                                   if ex.id in loaded]
    tokenizer = _show_tokenizer(tokenizer_name, texts)
    instances = build_instances(chosen, loaded, built_variant, tokenizer, seed=seed,
                                prompt_format=vcfg.prompt_format())
    console = Console()
    legend = Text("segments: ")
    for kind, style in _SEGMENT_STYLES.items():
        legend += Text(kind, style=style) + Text(" ")
    console.print(legend + Text("(prompt dim)", style="dim"))
    for inst in instances:
        console.print(Text(f"--- {inst.example_id} ---", style="bold"))
        line = Text(tokenizer.decode(list(inst.prompt_ids)), style="dim")
        for seg in inst.segments:
            line += Text(tokenizer.decode(list(seg.token_ids)), style=_SEGMENT_STYLES[seg.kind])
        console.print(line)
