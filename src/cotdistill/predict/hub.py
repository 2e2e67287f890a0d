"""Share a trained student on the Hugging Face hub: its directory (weights, tokenizer, ``cotdistill.json``, model
card) uploaded with ``huggingface_hub.create_repo`` + ``upload_folder``, as ``Trainer.push_to_hub`` does."""

from __future__ import annotations

from pathlib import Path

from cotdistill.errors import ConfigError, DataError
from cotdistill.models import METADATA_FILE, read_metadata

#: Never uploaded: training checkpoints (optimizer state) and half-written files.
IGNORE_PATTERNS = ["checkpoint-*", "incomplete-checkpoint-*", "*.tmp*", ".*"]


def check_student_card(student_dir: Path):
    """The student's model card, parsed and checked as the hub will read it (YAML header -> ``ModelCardData``)."""
    import yaml
    from huggingface_hub import ModelCard

    metadata = read_metadata(student_dir)
    if metadata is None or not metadata.get("finished"):
        raise DataError(f"not a finished cotdistill student (no finished {METADATA_FILE})", path=student_dir)
    card_path = student_dir / "README.md"
    if not card_path.is_file():
        raise DataError("has no model card (README.md); `cotdistill eval --update-card` writes one", path=student_dir)
    try:
        card = ModelCard.load(card_path)
    except (ValueError, yaml.YAMLError) as err:
        raise DataError(f"model card does not parse: {err}".splitlines()[0], path=card_path) from None
    return card


def push_student(student_dir: str | Path, repo_id: str, *, private: bool = False, token: str | None = None) -> str:
    """Create ``repo_id`` (if new) and upload the student directory to it; returns the commit URL."""
    import huggingface_hub
    from huggingface_hub.errors import HFValidationError, HfHubHTTPError
    from huggingface_hub.utils import validate_repo_id

    student_dir = Path(student_dir)
    if not student_dir.is_dir():
        raise DataError("trained student directory not found", path=student_dir)
    try:
        validate_repo_id(repo_id)
    except HFValidationError as err:
        raise ConfigError(str(err).splitlines()[0], field="--repo") from None
    check_student_card(student_dir)
    try:
        huggingface_hub.create_repo(repo_id, private=private, exist_ok=True, token=token, repo_type="model")
        commit = huggingface_hub.upload_folder(repo_id=repo_id, folder_path=str(student_dir), token=token,
                                               repo_type="model", ignore_patterns=IGNORE_PATTERNS,
                                               commit_message=f"Upload cotdistill student {student_dir.name}")
    except HfHubHTTPError as err:
        raise ConfigError(f"the hub refused the upload: {err}".splitlines()[0], field="--repo") from None
    return str(getattr(commit, "commit_url", commit))
