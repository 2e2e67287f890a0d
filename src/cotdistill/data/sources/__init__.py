"""The built-in task sources, one module each (the synthetic task: :mod:`cotdistill.data.synthetic`), and the list
of them by name that :data:`cotdistill.data.tasks.TASKS` starts from."""

from cotdistill.data import synthetic
from cotdistill.data.sources import commonsense_qa, generic, openbookqa, quarel
from cotdistill.data.task_config import TaskLoader

#: Every built-in task: its name and its loader.
BUILTIN_TASKS: tuple[tuple[str, TaskLoader], ...] = (
    ("commonsense_qa", commonsense_qa.load_commonsense_qa),
    ("openbookqa", openbookqa.load_openbookqa),
    ("quarel", quarel.load_quarel),
    ("quarel_ni", quarel.load_quarel_ni),
    ("jsonl", generic.load_jsonl_task),
    ("csv", generic.load_csv_task),
    ("synthetic", synthetic.load_synthetic_task),
)

__all__ = ["BUILTIN_TASKS"]
