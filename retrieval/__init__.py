"""Retrieval: find the memories that answer a question and answer with citations.

Imports :mod:`memory`, :mod:`perception` and :mod:`models` only.
"""

from retrieval.answer import AnswerOptions, Retriever
from retrieval.records import Answer, Evidence

__all__ = ["Answer", "AnswerOptions", "Evidence", "Retriever"]
