"""``cotdistill variants``: list the registered variants and show what a student is trained on."""

from __future__ import annotations

import typer
import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cotdistill.cli.app import app
from cotdistill.cli.data_cmds import parse_field_flags, rationale_config_from_flags, task_config_from_flags
from cotdistill.cli.options import (
    field_type,
    num_examples_option,
    rationales_format_option,
    rationales_option,
    task_path_option,
)
from cotdistill.data.rationales import LabelPolicy, RationaleFormat, RationaleSplit, apply_label_policy, load_rationales
from cotdistill.data.tasks import load_task
from cotdistill.errors import ConfigError
from cotdistill.variants import VARIANTS, build_instances
from cotdistill.variants.config import VariantConfig

LabelStyle = field_type(VariantConfig, "label_style")

variants_app = typer.Typer(help="Training variants: list them, show built examples.", no_args_is_help=True)
app.add_typer(variants_app, name="variants")


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
    variant: str = typer.Option(..., "--variant", help="Variant name (see `cotdistill variants list`)."),
    param: list[str] | None = typer.Option(None, "--param", help="Variant parameter KEY=VALUE (repeatable)."),
    task: str = typer.Option(..., "--task", help="Task name (see `cotdistill tasks list`)."),
    task_path: str | None = task_path_option(),
    split: str = typer.Option("validation", "--split", help="Task split."),
    rationales: str | None = rationales_option("Rationale store, file or palm_cqa folder."),
    rationales_format: RationaleFormat = rationales_format_option("Format of --rationales.", default="jsonl"),
    rationales_split: RationaleSplit | None = typer.Option(None, "--rationales-split",
                                                           help="palm_cqa: which completions."),
    label_policy: LabelPolicy = typer.Option("keep", "--label-policy",
                                             help="Examples whose teacher label is wrong: keep, drop or relabel."),
    label_style: LabelStyle = typer.Option("text", "--label-style", help="The label as its letter or its text."),
    show_choices: bool = typer.Option(True, "--show-choices/--hide-choices", help="List choices in the prompt."),
    num_examples: int = num_examples_option(3, "How many examples to build and print.", min=1),
    tokenizer_name: str = typer.Option("tiny", "--tokenizer", help="tiny, a student alias or a model id/dir."),
    seed: int = typer.Option(0, "--seed", help="Seed of the variant's randomness."),
) -> None:
    """Print a few built training examples: the prompt, then the target coloured by segment kind."""
    params = {k: yaml.safe_load(v) if isinstance(v, str) else v
              for k, v in (parse_field_flags(param, "--param") or {}).items()}
    vcfg = VariantConfig.from_dict({"name": variant, "params": params, "label_style": label_style,
                                    "show_choices": show_choices}, source="command line")
    built_variant = vcfg.build_variant(field_prefix="--variant")
    examples = [ex for ex in load_task(task_config_from_flags(task, task_path, split)) if ex.answer is not None]
    loaded = {}
    if rationales is not None:
        rcfg = rationale_config_from_flags(rationales_format, rationales, rationales_split, split,
                                           label_policy=label_policy)
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
