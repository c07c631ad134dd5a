"""A griffe extension for the API reference: Sphinx roles in docstrings as code spans.

profond's docstrings name other objects the Sphinx way (``:func:`profond.ops.conv2d```,
``:class:`~profond.layers.Dense```), which Markdown would show verbatim. They become code spans
(the last component only after ``~``, as Sphinx shows it); the names stay searchable.
"""

import re

import griffe

ROLE = re.compile(r":(?:func|class|mod|meth|data|attr|obj|exc):`(~?)([^`]+)`")


def _code_span(match: re.Match) -> str:
    tilde, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


class SphinxRolesAsCode(griffe.Extension):
    """Rewrite each object's docstring once, when griffe has loaded it."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None and ":" in obj.docstring.value:
            obj.docstring.value = ROLE.sub(_code_span, obj.docstring.value)
