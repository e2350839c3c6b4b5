# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: nbgrader,deletable,editable,tags,-all
#     notebook_metadata_filter: kernelspec,-all
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A tiny assignment for the grader's own tests
# Two exercises without torch, so that a kernel starts and grades in about a second.

# %%
import math

import course_utils  # the course's package (cheap: no torch); a sandbox that cannot import it is broken

# %% nbgrader={"grade": false, "grade_id": "square", "locked": false, "schema_version": 3, "solution": true}
def square(x):
    """Return ``x * x`` (an int for an int)."""
    ### BEGIN SOLUTION
    return x * x
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_square", "locked": true, "points": 2, "schema_version": 3, "solution": false}
result = square(3)
assert type(result) is int and result == 9, f"square(3) should be the int 9, got {result!r}"
### BEGIN HIDDEN TESTS
hidden_square_probe = square(-4)
assert type(hidden_square_probe) is int and hidden_square_probe == 16, "square(-4) should be 16 (hidden check)"
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "hypot", "locked": false, "schema_version": 3, "solution": true}
def hypot(a, b):
    """Length of the hypotenuse of a right triangle with legs ``a`` and ``b`` (a float)."""
    ### BEGIN SOLUTION
    return math.sqrt(a * a + b * b)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_hypot", "locked": true, "points": 3, "schema_version": 3, "solution": false}
value = hypot(3, 4)
assert type(value) is float and abs(value - 5.0) < 1e-9, f"hypot(3, 4) should be 5.0, got {value!r}"
### BEGIN HIDDEN TESTS
hidden_hypot_probe = hypot(5, 12)
assert type(hidden_hypot_probe) is float and abs(hidden_hypot_probe - 13.0) < 1e-9, "hypot(5, 12) should be 13.0 (hidden)"
### END HIDDEN TESTS

# %% nbgrader={"grade": false, "grade_id": "answer_cell", "locked": false, "schema_version": 3, "solution": true}
### BEGIN SOLUTION
answer = 6 * 7
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_answer", "locked": true, "points": 1, "schema_version": 3, "solution": false}
# Exact types first, as course_utils.grading does: an object that claims to equal everything earns nothing.
assert type(answer) is int and answer == 42, "answer should be the int 42"
### BEGIN HIDDEN TESTS
assert type(answer) is int and answer == 42 and not (answer == 41), "answer should be exactly 42 (hidden)"
### END HIDDEN TESTS
