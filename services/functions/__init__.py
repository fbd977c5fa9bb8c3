"""Thin Lambda entry points. Each builds its collaborators once per process, then delegates.

Importing any of them installs the log sanitiser first: the package is what a Lambda runtime
(and the local stack) loads before the first record of a function is made, so plain
`logging` loggers are sanitised like the functions' own from the first line on.
"""

from services.observability import install_log_sanitiser

install_log_sanitiser()
