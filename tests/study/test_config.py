"""Study configs: bad ones fail before any work with one line naming the YAML key; the grid expands."""

from __future__ import annotations

import pytest

from cotdistill.cli.main import main
from cotdistill.errors import ConfigError
from cotdistill.study.config import load_study_config
from cotdistill.study.grid import expand_grid


@pytest.mark.parametrize("changes, key, words", [
    ({"variants": [{"name": "label_only"}, {"name": "cot_after_label"}, {"name": "cot_befor_label"}]},
     "variants[2].name", "unknown variant 'cot_befor_label'"),
    ({"variants": [{"name": "label_only"}, {"name": "shuffled_cot_after_label", "params": {"levle": "word"}}]},
     "variants[1].params", "unknown parameter"),
    ({"seeds": ["zero"]}, "seeds[0]", "integer"),
    ({"train": {"learning_rate": "fast"}}, "train.learning_rate", "number"),
    ({"trian": {}}, "trian", "unknown key"),
    ({"students": [{"model": "tiny", "dtyp": "bf16"}]}, "students[0].dtyp", "unknown key"),
    ({"baseline": "nothing"}, "baseline", "not one of the variants"),
    ({"family": [{"finding": "f", "variant": "cot_after_label", "reference": "label_olny"}]},
     "family[0].reference", "not one of the variants"),
    ({"family": [{"finding": "f", "variant": "cot_after_label"}]}, "family[0].reference", "required"),
    ({"tasks": [{"train": {"name": "jsonl", "path": "missing.jsonl"}, "eval": {"name": "synthetic"},
                 "reference_rationales": True}]}, "tasks[0].train.path", "not found"),
    ({"tasks": [{"train": {"name": "synthetic"}, "eval": {"name": "synthetic", "split": "test"},
                 "rationales": {"path": "nowhere.jsonl"}}]}, "tasks[0].rationales.path", "not found"),
    ({"tasks": [{"train": {"name": "synthetic"}, "eval": {"name": "synthetic", "split": "test"}}]},
     "tasks[0]", "rationale source"),
    ({"tasks": [{"train": {"name": "nosuchtask"}, "eval": {"name": "synthetic"}, "reference_rationales": True}]},
     "tasks[0].train.name", "unknown task"),
    ({"variants": [{"name": "label_only"}, {"name": "key_tokens_after_label", "params": {"selector": "tfidf"},
                                            "k": []}]}, "variants[1].k", "at least one k"),
    ({"variants": [{"name": "label_only"}, {"name": "key_tokens_after_label", "params": {"selector": "magic"}}]},
     "variants[1].params.selector", "unknown key-token selector"),
    ({"variants": [{"name": "label_only"}, {"name": "key_tokens_after_label", "params": {"selector": "occlusion"}}]},
     "variants[1].params.scorer", "needs a scorer"),
    ({"eval": {"reasoning_first": {"mode": "label_first"}}}, "eval", "reasoning_first.mode"),
    ({"variants": [{"name": "label_only"}, {"name": "cot_after_label", "train": {"rationale_wieght": 0.1}}]},
     "variants[1].train", "unknown training setting 'rationale_wieght'"),
    ({"variants": [{"name": "label_only"}, {"name": "cot_after_label", "train": {"seed": 3}}]},
     "variants[1].train", "seed comes from"),
    ({"variants": [{"name": "label_only"}, {"name": "cot_after_label", "train": {"rationale_weight": -1}}]},
     "variants[1].train.rationale_weight", "greater than or equal"),
])
def test_bad_config_names_the_yaml_key(tiny_study_yaml, changes, key, words):
    path = tiny_study_yaml(changes)
    with pytest.raises(ConfigError) as err:
        load_study_config(path)
    message = str(err.value)
    assert f"key '{key}'" in message and words in message and str(path) in message
    assert "\n" not in message


def test_cli_prints_one_line_and_exits_2_before_any_work(tiny_study_yaml, tmp_path, capsys):
    path = tiny_study_yaml({"variants": [{"name": "label_only"}, {"name": "nope"}]})
    out = tmp_path / "out"
    assert main(["study", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "variants[1].name" in err
    assert not out.exists()


def test_grid_expands_k_and_modes_and_hashes_are_stable(tiny_study_yaml):
    cfg = load_study_config(tiny_study_yaml({
        "variants": [{"name": "label_only"}, {"name": "cot_before_label"},
                     {"name": "random_k_tokens_after_label", "k": [1, 3]}],
        "seeds": [0, 1]}))
    cells = expand_grid(cfg)
    assert len(cells) == 4 * 2
    labels = sorted({c.variant for c in cells})
    assert labels == ["cot_before_label", "label_only", "random_k_tokens_after_label (k=1)",
                      "random_k_tokens_after_label (k=3)"]
    before = next(c for c in cells if c.variant == "cot_before_label")
    assert before.modes == ("label_first", "reasoning_first") and before.primary_mode == "reasoning_first"
    assert next(c for c in cells if c.variant == "label_only").modes == ("label_first",)
    assert [c.k for c in cells if c.variant.startswith("random_k")] == [1, 1, 3, 3]
    assert len({c.key for c in cells}) == len(cells)
    assert [c.key for c in expand_grid(cfg)] == [c.key for c in cells]
    # labels are names in tables, not part of what a cell computes
    relabelled = load_study_config(tiny_study_yaml({
        "variants": [{"name": "label_only", "label": "LO"}, {"name": "cot_before_label"},
                     {"name": "random_k_tokens_after_label", "k": [1, 3]}], "seeds": [0, 1], "baseline": "LO"},
        name="relabelled.yaml"))
    assert [c.key for c in expand_grid(relabelled)] == [c.key for c in cells]


def test_the_declared_family_does_not_change_the_study_hash(tiny_study_yaml):
    plain = load_study_config(tiny_study_yaml())
    declared = load_study_config(tiny_study_yaml({"family": [{"finding": "CoT helps", "variant": "cot_after_label",
                                                             "reference": "label_only"}]}, name="family.yaml"))
    assert declared.family[0].reference == "label_only"
    assert declared.study_hash() == plain.study_hash()


def test_a_variants_own_training_settings_reach_only_its_cells(tiny_study_yaml):
    plain = load_study_config(tiny_study_yaml())
    weighted = load_study_config(tiny_study_yaml({
        "variants": [{"name": "label_only"}, {"name": "cot_after_label"},
                     {"name": "cot_after_label", "label": "cot_after_label (w=0.1)",
                      "train": {"rationale_weight": 0.1}}]}, name="weighted.yaml"))
    cells = {c.variant: c for c in expand_grid(weighted)}
    assert cells["cot_after_label (w=0.1)"].train_config.rationale_weight == 0.1
    assert cells["cot_after_label (w=0.1)"].resolved["train"]["rationale_weight"] == 0.1
    assert cells["cot_after_label"].train_config.rationale_weight == plain.train.rationale_weight
    assert cells["cot_after_label (w=0.1)"].key != cells["cot_after_label"].key
    # cells without their own settings keep the keys (and the study its hash) they had before the field existed
    plain_keys = {c.variant: c.key for c in expand_grid(plain)}
    assert all(cells[label].key == key for label, key in plain_keys.items())
    assert load_study_config(tiny_study_yaml(name="again.yaml")).study_hash() == plain.study_hash()
