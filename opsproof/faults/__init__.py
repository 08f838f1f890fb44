"""Failure injection: faults as transactions whose undo is written down before they act."""
