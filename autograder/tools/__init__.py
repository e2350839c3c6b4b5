"""Instructor tooling: build the student release from solutions/ and check grading validity."""
