"""Trusted, parent-side rewrite of a unit test into checks whose verdict the parent computes.

The test is the user's (trusted); the solution is not. ``plan_tests`` parses the test and
rewrites every assertion it finds into ``_aw_check(SITE, TREE)``: ``TREE`` holds thunks
(``lambda: EXPR``) for the operands the child must compute, and nothing of the operands
the parent can compute itself. Literal operands (``5``, ``[1, 2]``, ``'Hello'``) never reach
the child: the parent keeps them in ``Plan.sites``, so a solution cannot read the expected
values from the test's code objects. The child sends back each computed operand as plain
data and the parent compares (``verdict.py``).

Understood forms: ``assert`` with comparisons (chained too) combined by ``and``/``or``/
``not``, ``all()``/``any()`` over literals and comprehensions, ``isinstance`` with built-in
types, truthiness of plain values, ``is``/``is not`` against None/True/False,
``pytest.approx``, ``pytest.raises`` and ``assertRaises`` (as a context manager or a call),
``assert_equal(actual, expected)`` (identical types), and the ``unittest.TestCase``
assertions in ``UNITTEST``. Anything else that asserts raises ``PlanError`` with the line,
so a test the checker cannot understand fails loudly instead of passing.

Units (what ``tests_passed``/``tests_total`` count): each top-level statement that holds
an assertion, each top-level call of a function named ``check*``/``test*``/``assert*``,
each top-level ``def test*()`` (called after the module ran) and each ``test*`` method of a
``TestCase`` class.

The rewriter is one ``ast.NodeTransformer`` built in layers, each a module that adds one
family of forms on top of the one below it:

* ``sites.py``: shared state, site numbering;
* ``guarded_logic.py``: the test's own comparisons, truth tests and arithmetic;
* ``operands.py``: literals kept by the parent, arithmetic and built-ins applied there;
* ``boolean_trees.py``: ``and``/``or``/``not``, comparisons, ``all``/``any``, ``isinstance``;
* ``raises_forms.py``: ``pytest.raises``, ``assertRaises``;
* ``unittest_forms.py``: ``self.assert*``;
* ``assertions.py``: where assertions live, and the forms refused.

Around it: ``plan.py`` (the plan's data types), ``refusals.py`` (``PlanError``),
``syntax.py`` (AST helpers), ``parametrize.py``, ``unit_sites.py`` (what a unit must
report), ``units.py`` (units and steps) and ``planner.py`` (``plan_tests``).
"""

from .plan import MAX_PROGRAM_BYTES, Plan, Unit
from .planner import plan_tests
from .refusals import PlanError

__all__ = ["MAX_PROGRAM_BYTES", "Plan", "PlanError", "Unit", "plan_tests"]
