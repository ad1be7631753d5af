"""Run by the layer build (Makefile) on the copied package: its jinja templates compiled to modules.

See paperboy.compiled_templates. Run with the layer's own packages first on the path, so that the
templates are compiled by the jinja2 (and inlined by the css-inline) the functions will run.
"""

from paperboy.mail.outbound import render
from paperboy.web import pages

render.compile_templates()
pages.compile_templates()
