"""Drills: the operator runbook, run against a local stack or observed on a live one."""
