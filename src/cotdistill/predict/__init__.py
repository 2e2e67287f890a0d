"""Use a trained student: answer new questions (``Student.load(dir).predict(questions)``, ``cotdistill predict``)
and export what a variant trains on for other trainers (``cotdistill export``)."""

from cotdistill.predict.questions import QuestionParser, parse_questions, read_json_lines
from cotdistill.predict.student import Student, choice_probabilities

__all__ = ["QuestionParser", "Student", "choice_probabilities", "parse_questions", "read_json_lines"]
