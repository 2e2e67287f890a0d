"""Models, the service every stage loads students and local teachers through.

* :mod:`~cotdistill.models.config` -- :class:`StudentConfig` (which model, how it is loaded) and
  :class:`LoraSettings`;
* :mod:`~cotdistill.models.loading` -- :func:`load_student` / :func:`load_tokenizer` from a packaged alias, a local
  directory, a GGUF file (dequantized once into a cache) or a hub id;
* :mod:`~cotdistill.models.tiny` -- tiny random-weight students built in-process (tests, smoke runs);
* :mod:`~cotdistill.models.metadata` -- ``cotdistill.json``, the metadata file of a trained student;
* :mod:`~cotdistill.models.trained` -- :func:`load_trained_student`, reloading a finished training directory.

It sits beside configbase / files / registry below every stage and imports none of them. torch and transformers
are imported when a model is loaded, so ``import cotdistill.models`` is cheap.
"""

from __future__ import annotations

from cotdistill.models.config import LoraSettings, StudentConfig
from cotdistill.models.loading import load_student, load_tokenizer
from cotdistill.models.metadata import METADATA_FILE, read_metadata, recorded_prompt_format, write_metadata
from cotdistill.models.trained import load_trained_student

__all__ = ["METADATA_FILE", "LoraSettings", "StudentConfig", "load_student", "load_tokenizer",
           "load_trained_student", "read_metadata", "recorded_prompt_format", "write_metadata"]
