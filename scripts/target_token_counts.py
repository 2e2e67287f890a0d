"""Mean target tokens per training instance, by kind (label, rationale, ...), for every task x student x variant
of a study config, and the label's share of an instance's loss weight under the variant's training settings
(the loss is sum(weight x token loss) / sum(weights)). How configs/local/csqa_loss_share.yaml chose its weights:

    python scripts/target_token_counts.py configs/local/csqa_loss_share.yaml

Builds the instances exactly as the study's cells do (seed 0; other seeds shuffle differently, same counts);
loads only tokenizers. Prints one line per row.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

from cotdistill.errors import CotDistillError
from cotdistill.study.config import load_study_config
from cotdistill.study.taskdata import load_task_data
from cotdistill.models.loading import load_tokenizer
from cotdistill.train.batching import weight_for_kind
from cotdistill.variants.base import build_instances


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", type=Path, help="a study YAML")
    args = parser.parse_args()
    try:
        cfg = load_study_config(args.config)
        scratch = Path(tempfile.mkdtemp())
        tasks = [load_task_data(task, i, scratch, write=False) for i, task in enumerate(cfg.tasks)]
        for student in cfg.students:
            tokenizer = load_tokenizer(student.student_config())
            for task, data in zip(cfg.tasks, tasks):
                for v_index, label, variant_cfg in cfg.variant_entries():
                    train_cfg = cfg.train_config(v_index, seed=0)
                    instances = build_instances(data.train, data.rationales, variant_cfg.build_variant(), tokenizer,
                                                seed=0, prompt_format=variant_cfg.prompt_format())
                    tokens: Counter[str] = Counter()
                    for instance in instances:
                        kinds = instance.token_kinds()[: train_cfg.max_length]
                        tokens.update(kind for kind in kinds if weight_for_kind(kind, train_cfg) > 0)
                    weight = {kind: n * weight_for_kind(kind, train_cfg) for kind, n in tokens.items()}
                    share = weight.get("label", 0.0) / sum(weight.values()) if weight else 0.0
                    per_instance = ", ".join(f"{kind} {n / len(instances):.2f}" for kind, n in sorted(tokens.items()))
                    print(f"{task.name} / {student.name} / {label}: {len(instances)} instances; target tokens per "
                          f"instance: {per_instance}; label's share of the loss weight {share:.1%}")
    except CotDistillError as err:
        sys.exit(str(err))


if __name__ == "__main__":
    main()
